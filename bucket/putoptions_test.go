package bucket

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
)

func TestPartSizeFitsPartLimit(t *testing.T) {
	tests := []struct {
		size, part, wantPart int64
		conc, wantConc       int
	}{
		{size: 0, part: DefaultPartSize, wantPart: DefaultPartSize, conc: 4, wantConc: 1},
		{size: 40 * MiB, part: 5 * MiB, wantPart: 5 * MiB, conc: 4, wantConc: 4},
		{size: 12 * MiB, part: 5 * MiB, wantPart: 5 * MiB, conc: 8, wantConc: 3},
		{size: 100 << 30, part: DefaultPartSize, wantPart: DefaultPartSize, conc: 4, wantConc: 4},
		{size: 1 << 40, part: DefaultPartSize, wantPart: 105 * MiB, conc: 4, wantConc: 4},
		{size: maxObjectSize, part: 5 * MiB, wantPart: 525 * MiB, conc: 4, wantConc: 4},
	}
	for _, tc := range tests {
		o, err := newPutOptions(tc.size, []PutOption{WithPartSize(tc.part), WithConcurrency(tc.conc)})
		if err != nil {
			t.Fatalf("size %d: %v", tc.size, err)
		}
		if o.partSize != tc.wantPart || o.concurrency != tc.wantConc {
			t.Errorf("size %d: part %d, concurrency %d; want %d, %d", tc.size, o.partSize, o.concurrency, tc.wantPart, tc.wantConc)
		}
		if parts := ceilDiv(tc.size, o.partSize); parts > maxParts {
			t.Errorf("size %d needs %d parts of %d", tc.size, parts, o.partSize)
		}
	}
}

// Put streams: it never reads further ahead of what the server accepted
// than the buffers it is allowed (part size × (concurrency + 2)).
func TestPutReadsAheadBoundedly(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	const size, part, conc = 80 * MiB, 5 * MiB, 2
	body, sum := stream(size, 11)
	var uploaded atomic.Int64
	cr := &leadReader{r: body, uploaded: &uploaded}
	err := s.Put(context.Background(), "big/big-1.tgz", cr, size, sum,
		WithPartSize(part), WithConcurrency(conc), WithProgress(func(n int64) { uploaded.Add(n) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max read-ahead %d MiB", cr.maxLead/MiB)
	if limit := int64(part * (conc + 2)); cr.maxLead > limit {
		t.Errorf("read %d bytes ahead of the upload, limit %d", cr.maxLead, limit)
	}
	if cr.read != size || uploaded.Load() != size {
		t.Errorf("read %d, uploaded %d; want %d", cr.read, uploaded.Load(), size)
	}
}

// leadReader tracks how far reading runs ahead of uploading.
type leadReader struct {
	r        io.Reader
	read     int64
	uploaded *atomic.Int64
	maxLead  int64
}

func (l *leadReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.read += int64(n)
	l.maxLead = max(l.maxLead, l.read-l.uploaded.Load())
	return n, err
}
