package bucket

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/miniotest"
)

// gate lets n bytes of r through, then holds the next Read until released.
type gate struct {
	r       io.Reader
	n       int64
	reached chan struct{}
	release chan struct{}
}

func newGate(r io.Reader, n int64) *gate {
	return &gate{r: r, n: n, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) Read(p []byte) (int, error) {
	if g.n == 0 {
		close(g.reached)
		<-g.release
		g.n = -1
	}
	if g.n > 0 {
		p = p[:min(int64(len(p)), g.n)]
	}
	n, err := g.r.Read(p)
	if g.n > 0 {
		g.n -= int64(n)
	}
	return n, err
}

// putAsync runs Put in the background and returns its result channel.
func putAsync(ctx context.Context, s *Store, key string, body io.Reader, size int64, sum string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Put(ctx, key, body, size, sum, WithPartSize(5*MiB), WithConcurrency(2)) }()
	return done
}

// MinIO stops in the middle of an upload: Put fails naming the endpoint and
// leaves nothing visible; after a restart the leftover upload is cleaned up
// and the same Put succeeds.
func TestPutServerStopsMidUpload(t *testing.T) {
	srv := miniotest.Start(t)
	s := newBucket(t, srv)
	const key = "img/img-1.tgz"
	body, sum := data(30*MiB, 9)
	g := newGate(strings.NewReader(string(body)), 12*MiB)
	done := putAsync(context.Background(), s, key, g, int64(len(body)), sum)

	<-g.reached
	srv.Stop()
	close(g.release)
	start := time.Now()
	err := <-done
	t.Logf("Put failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), srv.Endpoint) || !strings.Contains(err.Error(), key) {
		t.Fatalf("Put = %v, want an unreachable-endpoint error naming %s and %s", err, key, srv.Endpoint)
	}
	if !errors.As(err, new(*LeftBehindError)) || !strings.Contains(err.Error(), "left behind") {
		t.Errorf("error %q does not mention the upload it could not abort", err)
	}

	srv.Restart(t)
	if _, ok, err := s.Stat(context.Background(), key); ok || err != nil {
		t.Fatalf("after restart Stat = %v, %v; want absent", ok, err)
	}
	n, err := s.AbortIncomplete(context.Background(), key, "img/other.tgz")
	if err != nil || n != 1 {
		t.Fatalf("AbortIncomplete = %d, %v; want 1 upload aborted", n, err)
	}
	assertNoUploads(t, srv, s.bucket, key)

	if err := <-putAsync(context.Background(), s, key, strings.NewReader(string(body)), int64(len(body)), sum); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
	assertStored(t, srv, s, key, body, sum, 6)
}

// Cancelling the context mid-upload still aborts the multipart upload.
func TestPutCancelledAborts(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	body, sum := data(30*MiB, 10)
	ctx, cancel := context.WithCancel(context.Background())
	g := newGate(strings.NewReader(string(body)), 12*MiB)
	done := putAsync(ctx, s, "img/img-1.tgz", g, int64(len(body)), sum)

	<-g.reached
	cancel()
	close(g.release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	assertAbsent(t, srv, s, "img/img-1.tgz")
}
