package bundle_test

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/testtool"
)

// patternReader yields n bytes of a repeating pattern without storing them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// heapWatch records the largest heap seen, sampling every 8 MiB of progress.
type heapWatch struct{ since, peak uint64 }

func (h *heapWatch) sample(n int64) {
	h.since += uint64(n)
	if h.since < 8<<20 {
		return
	}
	h.since = 0
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapInuse)
}

func TestStreamingMemoryIsBounded(t *testing.T) {
	if testing.Short() && !testtool.CI() { // CI always runs it
		t.Skip("writes 256 MiB")
	}
	const size = 256 << 20
	const limit = 48 << 20
	f := newFixture(t)
	runtime.GC() // measure this test's heap, not what earlier tests left to collect
	payload := bundle.Payload{Path: "images/big.tgz", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(&patternReader{n: size}), nil
	}}
	var w heapWatch
	res, err := bundle.Write(context.Background(), filepath.Join(f.dir, "big"), f.priv, []bundle.Payload{payload},
		bundle.WithPartSize(100<<20), bundle.WithProgress(func(_ string, n int64) { w.sample(n) }))
	if err != nil {
		t.Fatal(err)
	}
	if w.peak == 0 || w.peak > limit {
		t.Fatalf("writing a %d MiB payload peaked at %d MiB of heap (limit %d MiB)", size>>20, w.peak>>20, limit>>20)
	}
	r, err := bundle.Open(res.Files[:1], f.trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var v heapWatch
	n, err := r.VerifyAll(context.Background(), bundle.Watcher{Bytes: func(_ string, n int64) { v.sample(n) }})
	if err != nil {
		t.Fatal(err)
	}
	if n != size || v.peak == 0 || v.peak > limit {
		t.Fatalf("verified %d bytes with a heap peak of %d MiB (limit %d MiB)", n, v.peak>>20, limit>>20)
	}
}
