package bundle

import (
	"context"
	"errors"
	"io"

	"github.com/airlockhq/airlock/internal/ctxio"

	"github.com/airlockhq/airlock/manifest"
)

// Watcher receives events while a bundle is read; nil fields are skipped.
type Watcher struct {
	Bytes func(path string, n int64) // payload bytes verified, as they pass
	Entry func(e *manifest.Entry)    // an entry was read and matched
	// Copy may return a writer that also receives an entry's bytes (nil:
	// none); they are verified only once VerifyAll moves past the entry.
	Copy func(e *manifest.Entry) io.Writer
}

// VerifyAll reads and verifies every remaining payload entry of r and
// returns the number of payload bytes read. The first mismatch stops it
// with a *verify.Error naming the entry and part.
func (r *Reader) VerifyAll(ctx context.Context, w Watcher) (int64, error) {
	var total int64
	buf := make([]byte, copyBufferSize)
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, r.blame(err)
		}
		// ProgressWriter also hides io.Discard's small-buffer ReadFrom.
		dst := &ctxio.ProgressWriter{W: io.Discard}
		if w.Bytes != nil {
			dst.Report = func(n int64) { w.Bytes(e.Path, n) }
		}
		var to io.Writer = dst
		if w.Copy != nil {
			if cw := w.Copy(e.Entry); cw != nil {
				to = io.MultiWriter(dst, cw)
			}
		}
		n, err := io.CopyBuffer(to, ctxio.Reader(ctx, e), buf)
		total += n
		if err != nil {
			return total, r.blame(err)
		}
		if w.Entry != nil {
			w.Entry(e.Entry)
		}
	}
}
