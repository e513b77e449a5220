package miniotest

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Shared is one MinIO server for a whole test package, started by the first
// test that asks for it:
//
//	var minio miniotest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		minio.Close()
//		os.Exit(code)
//	}
//
// Tests must not Stop or Restart a shared server; fault tests use Start.
//
// With $AIRLOCK_MINIO_NODES set to 4 or more (make test-distributed) the
// shared server is MinIO in distributed mode with that many nodes (see
// StartDistributed), so a package's tests run against an erasure-coded
// store unchanged.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Get returns the running server, starting it on first use. It skips t (or
// fails it under CI=true) when the binary is missing, and fails t when the
// server could not start.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(sh.start)
	if sh.err != nil {
		skipOrFail(t, sh.err)
	}
	return sh.srv
}

func (sh *Shared) start() {
	dir, err := os.MkdirTemp("", "miniotest-")
	if err != nil {
		sh.err = err
		return
	}
	nodes, err := sharedNodes()
	if err != nil {
		sh.err = err
		return
	}
	srv, err := newServer(dir, nodes)
	if err == nil {
		err = srv.start()
	}
	if err != nil {
		os.RemoveAll(dir)
		sh.err = err
		return
	}
	sh.srv = srv
}

// Close stops the server, if one was started, and removes its data.
func (sh *Shared) Close() {
	if sh.srv != nil {
		sh.srv.Stop()
		os.RemoveAll(sh.srv.dir)
	}
}

// EnvNodes names the environment variable that makes Shared start MinIO in
// distributed mode with that many nodes.
const EnvNodes = "AIRLOCK_MINIO_NODES"

// sharedNodes is the number of nodes $AIRLOCK_MINIO_NODES asks for: 1 when
// unset.
func sharedNodes() (int, error) {
	v := os.Getenv(EnvNodes)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || (n != 1 && n < 4) {
		return 0, fmt.Errorf("$%s=%q: want 1 (one server) or 4 or more (distributed mode)", EnvNodes, v)
	}
	return n, nil
}
