package bucket

import (
	"fmt"
)

// Limits of S3 multipart uploads, and Put's defaults.
const (
	MiB = 1 << 20

	DefaultPartSize    = 16 * MiB
	DefaultConcurrency = 4
	DefaultContentType = "application/gzip"

	minPartSize   = 5 * MiB
	maxPartSize   = 5 << 30
	maxParts      = 10_000
	maxObjectSize = 5 << 40
)

// PutOption tunes one Put.
type PutOption func(*putOptions)

type putOptions struct {
	partSize    int64
	concurrency int
	contentType string
	progress    func(n int64)
	ifNoneMatch string
	ifMatch     string
}

// WithPartSize sets the multipart part size (default 16 MiB, at least
// 5 MiB). Put raises it when the object would need more than 10,000 parts.
// Bodies smaller than one part go up in a single PutObject.
func WithPartSize(n int64) PutOption { return func(o *putOptions) { o.partSize = n } }

// WithConcurrency sets how many parts upload at once (default 4). Memory
// use is about part size × (concurrency + 2).
func WithConcurrency(n int) PutOption { return func(o *putOptions) { o.concurrency = n } }

// WithContentType sets the object's Content-Type (default application/gzip).
func WithContentType(ct string) PutOption { return func(o *putOptions) { o.contentType = ct } }

// WithProgress calls fn with the bytes uploaded since the last call, after
// each part the server accepted. Calls are serialized.
func WithProgress(fn func(n int64)) PutOption {
	return func(o *putOptions) { o.progress = fn }
}

// IfAbsent makes the write conditional (If-None-Match: *): it succeeds only
// if no object is under the key when the upload completes. Otherwise Put
// fails with an error matching ErrPrecondition and the object stays as it
// was. Servers without conditional writes ignore the header (see README).
func IfAbsent() PutOption { return func(o *putOptions) { o.ifNoneMatch, o.ifMatch = "*", "" } }

// IfUnchanged makes the write conditional (If-Match: etag): it replaces
// only the object version etag (from Stat). Otherwise Put fails with an
// error matching ErrPrecondition.
func IfUnchanged(etag string) PutOption {
	return func(o *putOptions) { o.ifMatch, o.ifNoneMatch = etag, "" }
}

// newPutOptions applies opts to the defaults and fits them to an object of
// size bytes.
func newPutOptions(size int64, opts []PutOption) (putOptions, error) {
	o := putOptions{partSize: DefaultPartSize, concurrency: DefaultConcurrency, contentType: DefaultContentType}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case size < 0 || size > maxObjectSize:
		return o, fmt.Errorf("size %d out of range (0 to 5 TiB)", size)
	case o.partSize < minPartSize || o.partSize > maxPartSize:
		return o, fmt.Errorf("part size %d out of range (5 MiB to 5 GiB)", o.partSize)
	case o.concurrency < 1:
		return o, fmt.Errorf("concurrency %d must be at least 1", o.concurrency)
	}
	o.partSize = max(o.partSize, partSizeFor(size))
	o.concurrency = int(min(int64(o.concurrency), max(1, ceilDiv(size, o.partSize))))
	return o, nil
}

// partSizeFor returns the smallest whole-MiB part size that uploads size
// bytes in at most 10,000 parts.
func partSizeFor(size int64) int64 {
	return ceilDiv(ceilDiv(size, maxParts), MiB) * MiB
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
