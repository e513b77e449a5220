package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for starting and stopping MinIO. A cold start on a busy 2-core
// machine takes well under a second; SIGTERM takes a little over one.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// Server is a running MinIO process serving one data folder.
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string // the server's region when set through its environment; else empty (us-east-1)

	bin     string
	dir     string
	addr    string
	console string

	env []string // extra environment, e.g. MINIO_SITE_REGION=...

	mu   sync.Mutex
	proc *process
}

// Start runs a MinIO server owned by t, stopped when t ends. It skips t (or
// fails it under CI=true) when the binary cannot be found.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithEnv(t)
}

// StartWithEnv is Start with extra environment variables for MinIO
// ("MINIO_SITE_REGION=eu-west-3").
func StartWithEnv(t testing.TB, env ...string) *Server {
	t.Helper()
	s, err := newServer(t.TempDir())
	if s != nil {
		s.env = env
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "MINIO_SITE_REGION="); ok {
				s.Region = v
			} else if v, ok := strings.CutPrefix(kv, "MINIO_REGION="); ok {
				s.Region = v
			}
		}
	}
	if err == nil {
		err = s.start()
	}
	if err != nil {
		skipOrFail(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// newServer prepares a server over data folder dir on free local ports.
func newServer(dir string) (*Server, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "airlocktest",
		SecretKey: randomSecret(),
		bin:       bin,
		dir:       dir,
		addr:      addr,
		console:   console,
	}, nil
}

// Stop terminates MinIO with SIGTERM and waits for it to exit. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.stop()
		s.proc = nil
	}
}

// Restart stops MinIO if it runs and starts it again on the same port and
// data folder, so objects and incomplete uploads survive.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("miniotest: restarting: %v", err)
	}
}

// start runs the process and waits until MinIO reports ready.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("minio is already running")
	}
	p, err := s.spawn()
	if err != nil {
		return err
	}
	if err := p.waitReady(s.Endpoint, readyTimeout); err != nil {
		p.stop()
		return err
	}
	if err := s.waitS3(readyTimeout); err != nil {
		p.stop()
		return err
	}
	s.proc = p
	return nil
}

// waitS3 waits until S3 requests succeed: right after a restart MinIO can
// report ready and still answer 503 XMinioServerNotInitialized for a moment.
func (s *Server) waitS3(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := s.Client().ListBuckets(context.Background(), &s3.ListBucketsInput{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio at %s does not answer S3 requests after %s: %w", s.Endpoint, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) spawn() (*process, error) {
	cmd := exec.Command(s.bin, "server", filepath.Join(s.dir, "data"),
		"--address", s.addr, "--console-address", s.console,
		"--certs-dir", filepath.Join(s.dir, "certs"), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Env = append(cmd.Env, s.env...)
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// process is one run of the MinIO binary.
type process struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error // exit status, set before done is closed
}

// waitReady polls the readiness probe until it answers 200.
func (p *process) waitReady(endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	url := endpoint + "/minio/health/ready"
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if probe(ctx, url) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("minio exited before it was ready (%v); output:\n%s", p.err, p.out)
		case <-ctx.Done():
			return fmt.Errorf("minio not ready at %s after %s; output:\n%s", url, timeout, p.out)
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends SIGTERM, then SIGKILL if MinIO has not exited in time.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freeAddr returns a 127.0.0.1 address with a port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
