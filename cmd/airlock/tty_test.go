package main

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/keys"
)

// ttyRun starts airlock (the test binary, see TestMain) with a
// pseudo-terminal as stdin, stdout and stderr, so progress bars are on.
type ttyRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
	read chan struct{} // closed when the terminal has nothing more to read
}

func startTTY(t *testing.T, dir string, args ...string) *ttyRun {
	t.Helper()
	bin, err := exec.LookPath("airlock")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as airlock: %v", err)
	}
	r := &ttyRun{cmd: exec.Command(bin, args...), done: make(chan error, 1), read: make(chan struct{})}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), "TERM=xterm", "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
	f, err := pty.StartWithSize(r.cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting airlock under a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); f.Close() })
	go func() {
		defer close(r.read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

func (r *ttyRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// wait returns the exit code, failing the test if airlock has not ended
// within a generous bound: the point is that it ends, not how fast.
func (r *ttyRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-r.done:
		select { // the last lines may still be on their way
		case <-r.read:
		case <-time.After(10 * time.Second):
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("airlock still runs on a terminal after 60 s; screen so far:\n%s", r.output())
		return -1
	}
}

func (r *ttyRun) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.output(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal after 60 s:\n%s", text, r.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ttyKey(t *testing.T, dir string) {
	t.Helper()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
}

// A conversion error on a terminal ends the bars and the process.
func TestTTYExportEndsAfterConversionError(t *testing.T) {
	reg := imagetest.Registry(t)
	good := imagetest.Image(t, []imagetest.File{{Name: "etc/ok", Body: "ok"}})
	bad, err := mutate.AppendLayers(good, static.NewLayer([]byte("this is not a tar stream, not even close"), types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	imagetest.Push(t, reg+"/team/good:1.0", good)
	imagetest.Push(t, reg+"/team/bad:1.0", bad)
	dir := t.TempDir()
	ttyKey(t, dir)
	r := startTTY(t, dir, "export", "--key", "k.key", "-o", "out", reg+"/team/good:1.0", reg+"/team/bad:1.0")
	if code := r.wait(t); code != exitError {
		t.Fatalf("exit code %d, want %d; screen:\n%s", code, exitError, r.output())
	}
	if !strings.Contains(r.output(), "airlock: error:") || !strings.Contains(r.output(), "team/bad") {
		t.Fatalf("the terminal shows no error naming the image:\n%s", r.output())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "out.tar*")); len(m) > 0 {
		t.Fatalf("a failed export left %v", m)
	}
}

// Ctrl-C (SIGINT) and SIGTERM during a download end the export promptly
// with exit code 130, bars and all.
func TestTTYExportEndsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
			img := imagetest.Image(t, []imagetest.File{{Name: "etc/big", Body: strings.Repeat("x", 1<<20)}})
			layers, _ := img.Layers()
			digest, _ := layers[0].Digest()
			hang := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/blobs/"+digest.String()) {
					w.Header().Set("Content-Length", "1000000")
					w.Write([]byte{0x1f, 0x8b})
					w.(http.Flusher).Flush()
					<-hang
					return
				}
				reg.ServeHTTP(w, req)
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(hang) })
			host := strings.TrimPrefix(srv.URL, "http://")
			imagetest.Push(t, host+"/team/slow:1.0", img)
			dir := t.TempDir()
			ttyKey(t, dir)
			r := startTTY(t, dir, "export", "--key", "k.key", "-o", "out", host+"/team/slow:1.0")
			r.waitFor(t, "converting")
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t); code != exitInterrupted {
				t.Fatalf("exit code %d after %s, want %d; screen:\n%s", code, sig, exitInterrupted, r.output())
			}
			if !strings.Contains(r.output(), "airlock: interrupted") {
				t.Fatalf("the terminal does not say it was interrupted:\n%s", r.output())
			}
		})
	}
}
