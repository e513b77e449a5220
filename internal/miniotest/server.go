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
// machine takes well under a second; SIGTERM takes a little over one. A
// node rejoining a distributed set waits on its peers' reconnect backoff:
// under load (CI with a benchmark beside it) it once took over 30 s.
const (
	readyTimeout  = 30 * time.Second
	rejoinTimeout = 90 * time.Second
	stopTimeout   = 15 * time.Second
)

// Server is a running MinIO: one process serving one data folder, or (see
// StartDistributed) several processes on 127.0.0.1 in distributed erasure
// mode, one drive each. Endpoint is the first node's address.
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string // the server's region when set through its environment; else empty (us-east-1)

	bin   string
	dir   string
	nodes []*node
	args  []string // the drives every process serves: one folder, or one URL per node

	env []string // extra environment, e.g. MINIO_SITE_REGION=...

	mu sync.Mutex
}

// node is one MinIO process of a Server: its addresses and, while it runs,
// the process.
type node struct {
	addr    string
	console string
	proc    *process
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
	return start(t, 1, env...)
}

// StartDistributed runs MinIO in distributed erasure mode owned by t:
// nodes processes on 127.0.0.1, one drive each, every one started with the
// same list of the nodes' drive URLs (at least 4 nodes: MinIO's minimum for
// erasure coding). With 4 drives MinIO's default parity is EC:2, so reads
// and writes go on with one node down (see KillNode). Endpoint is node 0.
func StartDistributed(t testing.TB, nodes int) *Server {
	t.Helper()
	if nodes < 4 {
		t.Fatalf("miniotest: distributed mode needs at least 4 nodes, not %d", nodes)
	}
	return start(t, nodes)
}

func start(t testing.TB, nodes int, env ...string) *Server {
	t.Helper()
	s, err := newServer(t.TempDir(), nodes)
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

// newServer prepares a server over data folder dir on free local ports:
// one process, or with nodes > 1 that many in distributed mode.
func newServer(dir string, nodes int) (*Server, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	s := &Server{AccessKey: "airlocktest", SecretKey: randomSecret(), bin: bin, dir: dir}
	for range max(nodes, 1) {
		n := &node{}
		if n.addr, err = freeAddr(); err != nil {
			return nil, err
		}
		if n.console, err = freeAddr(); err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, n)
	}
	s.Endpoint = "http://" + s.nodes[0].addr
	if nodes <= 1 {
		s.args = []string{filepath.Join(dir, "data")}
		return s, nil
	}
	for i, n := range s.nodes {
		s.args = append(s.args, fmt.Sprintf("http://%s%s", n.addr, filepath.Join(dir, fmt.Sprintf("drive%d", i+1))))
	}
	return s, nil
}

// Stop terminates every node with SIGTERM and waits for it to exit.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range s.nodes {
		if p := n.proc; p != nil {
			n.proc = nil
			wg.Go(p.stop)
		}
	}
	wg.Wait()
}

// Restart stops MinIO if it runs and starts it again on the same ports and
// data folders, so objects and incomplete uploads survive.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("miniotest: restarting: %v", err)
	}
}

// Nodes is the number of MinIO processes: 1, or the nodes of
// StartDistributed.
func (s *Server) Nodes() int { return len(s.nodes) }

// NodeEndpoint is the address of node i (0-based): NodeEndpoint(0) is
// Endpoint.
func (s *Server) NodeEndpoint(i int) string { return "http://" + s.nodes[i].addr }

// KillNode kills node i (0-based) of a distributed server with SIGKILL, as a
// crashed machine goes, and waits for it to exit. Node 0 serves Endpoint;
// kill another to keep the test's clients connected.
func (s *Server) KillNode(t testing.TB, i int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || i >= len(s.nodes) || s.nodes[i].proc == nil {
		t.Fatalf("miniotest: node %d of %d does not run", i, len(s.nodes))
	}
	p := s.nodes[i].proc
	s.nodes[i].proc = nil
	_ = p.cmd.Process.Kill()
	<-p.done
}

// StartNode starts node i of a distributed server again (after KillNode) on
// its port and drive, and waits until the cluster reports it whole.
func (s *Server) StartNode(t testing.TB, i int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || i >= len(s.nodes) || s.nodes[i].proc != nil {
		t.Fatalf("miniotest: node %d of %d is not stopped", i, len(s.nodes))
	}
	p, err := s.spawn(s.nodes[i])
	if err == nil {
		s.nodes[i].proc = p
		err = s.waitHealthy(rejoinTimeout)
	}
	if err != nil {
		t.Fatalf("miniotest: starting node %d again: %v", i, err)
	}
}

// start runs every node's process and waits until MinIO reports ready: each
// node ready and, in distributed mode, the cluster healthy (every erasure
// set has its write quorum).
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		if n.proc != nil {
			return errors.New("minio is already running")
		}
	}
	for _, n := range s.nodes {
		p, err := s.spawn(n)
		if err != nil {
			s.stopLocked()
			return err
		}
		n.proc = p
	}
	if err := s.waitHealthy(readyTimeout); err != nil {
		s.stopLocked()
		return err
	}
	return nil
}

// stopLocked stops the running nodes; s.mu is held.
func (s *Server) stopLocked() {
	for _, n := range s.nodes {
		if n.proc != nil {
			n.proc.stop()
			n.proc = nil
		}
	}
}

// waitHealthy waits for every running node's readiness probe, then for the
// cluster probe of node 0 (distributed mode), then for S3 requests to work.
func (s *Server) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range s.nodes {
		if n.proc == nil {
			continue
		}
		if err := n.proc.waitFor("http://"+n.addr+"/minio/health/ready", deadline, timeout); err != nil {
			return err
		}
	}
	if len(s.nodes) > 1 {
		if err := s.nodes[0].proc.waitFor(s.Endpoint+"/minio/health/cluster", deadline, timeout); err != nil {
			return err
		}
	}
	return s.waitS3(time.Until(deadline))
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

func (s *Server) spawn(n *node) (*process, error) {
	args := append([]string{"server"}, s.args...)
	args = append(args, "--address", n.addr, "--console-address", n.console,
		"--certs-dir", filepath.Join(s.dir, "certs"), "--quiet")
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	if len(s.nodes) > 1 {
		// In a container (/.dockerenv) MinIO waits for 127.0.0.1 to resolve
		// to a non-loopback address before it trusts that a drive URL is its
		// own; this names the node's own host:port, as MinIO's operator does.
		// MINIO_CI_CD (also set by CI=true) lets drives on the root file
		// system serve, which MinIO refuses in distributed mode otherwise.
		cmd.Env = append(cmd.Env, "_MINIO_SERVER_LOCAL="+n.addr, "MINIO_CI_CD=1")
	}
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

// waitFor polls url (a health probe) until it answers 200, the process
// exits or deadline passes.
func (p *process) waitFor(url string, deadline time.Time, timeout time.Duration) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if probe(ctx, url) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("minio exited before %s answered 200 (%v); output:\n%s", url, p.err, p.out)
		case <-ctx.Done():
			return fmt.Errorf("minio: %s does not answer 200 after %s; output:\n%s", url, timeout, p.out)
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
