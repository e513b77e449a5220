package main

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/imagetest"
)

// Ctrl-C (SIGINT) at any moment while a split export with parity writes
// its bundle ends it one of two ways: exit 130 with no file named like the
// bundle left (no part, parity part, index, index signature or temporary
// file), or, when the signal came after the last rename, exit 0 with a
// complete bundle that verifies.
func TestSplitExportInterrupted(t *testing.T) {
	bin, err := exec.LookPath("airlock")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as airlock: %v", err)
	}
	reg := imagetest.Registry(t)
	rng := rand.New(rand.NewPCG(5, 6))
	body := make([]byte, 24<<20) // incompressible: the bundle is as large
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	imagetest.Push(t, reg+"/team/big:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/big", Body: string(body)}}))
	dir := t.TempDir()
	ttyKey(t, dir)
	airlock := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
		return c
	}
	// Convert once, so each run below spends its time writing the bundle.
	if out, err := airlock("export", "--key", "k.key", "-o", "warm", reg+"/team/big:1.0").CombinedOutput(); err != nil {
		t.Fatalf("warming the cache: %v\n%s", err, out)
	}
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			out := filepath.Join(dir, "run-"+delay.String())
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			c := airlock("export", "--json", "--key", "k.key", "-o", filepath.Join(out, "b"), "--part-size", "1MiB", "--parity", "3", reg+"/team/big:1.0")
			stdout, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			for lines.Scan() && !strings.Contains(lines.Text(), `"event":"writing"`) {
			}
			time.Sleep(delay)
			c.Process.Signal(syscall.SIGINT)
			for lines.Scan() {
			}
			code := 0
			var ee *exec.ExitError
			if err := c.Wait(); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			ents, _ := os.ReadDir(out)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Logf("SIGINT %v after writing began: exit %d, %d files", delay, code, len(names))
			switch code {
			case exitInterrupted:
				if len(names) > 0 {
					t.Fatalf("an interrupted export left %v", names)
				}
			case exitOK:
				if len(names) != 24+3+2+1 && len(names) != 25+3+2 { // data parts, parity, index, signature
					t.Fatalf("a finished export wrote %d files: %v", len(names), names)
				}
				if b, err := airlock("verify", filepath.Join(out, "b.tar.001"), "--pub", "k.pub").CombinedOutput(); err != nil {
					t.Fatalf("the bundle of a finished export does not verify: %v\n%s", err, b)
				}
			default:
				t.Fatalf("exit code %d, want %d or %d", code, exitInterrupted, exitOK)
			}
		})
	}
}
