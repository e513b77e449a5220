package export

import (
	"errors"
	"io"
	"math"
	"os"
	"sync"
)

// progress is how far a download into a file has come, for readers that
// follow it.
type progress struct {
	mu   sync.Mutex
	cond *sync.Cond
	size int64 // bytes in the file so far
	done bool
	err  error // why the download failed, once done
}

func (p *progress) init() { p.cond = sync.NewCond(&p.mu) }

// restart notes that the file was truncated for a new attempt.
func (p *progress) restart() {
	p.mu.Lock()
	p.size = 0
	p.mu.Unlock()
}

func (p *progress) grow(n int) {
	p.mu.Lock()
	p.size += int64(n)
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *progress) finish(err error) {
	p.mu.Lock()
	p.done, p.err = true, err
	p.mu.Unlock()
	p.cond.Broadcast()
}

// wait blocks until the file holds more than off bytes or the download
// is over, and returns the size and the download's failure.
func (p *progress) wait(off int64) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.size <= off && !p.done {
		p.cond.Wait()
	}
	return p.size, p.err
}

// cause returns the download's failure, once it is over, in place of err,
// which reading its bytes ran into; err if the download succeeded.
func (p *progress) cause(err error) error {
	if _, derr := p.wait(math.MaxInt64); derr != nil {
		return derr
	}
	return err
}

// progressWriter writes to a file and reports what it wrote.
type progressWriter struct {
	f *os.File
	p *progress
}

func (w progressWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.p.grow(n)
	return n, err
}

// growingReader reads a file while a download still writes it, never past
// what the download reported written, and reports the download's failure
// at the end.
type growingReader struct {
	path string
	p    *progress
	f    *os.File
	off  int64
}

var errTruncated = errors.New("download truncated")

func (r *growingReader) Read(b []byte) (int, error) {
	for {
		size, err := r.p.wait(r.off)
		if size <= r.off { // the download is over
			if err != nil {
				return 0, err
			}
			if size < r.off {
				return 0, errTruncated
			}
			return 0, io.EOF
		}
		if r.f == nil {
			if r.f, err = os.Open(r.path); err != nil {
				return 0, err
			}
		}
		if int64(len(b)) > size-r.off {
			b = b[:size-r.off]
		}
		n, err := r.f.ReadAt(b, r.off)
		r.off += int64(n)
		if n > 0 || (err != nil && err != io.EOF) {
			if err == io.EOF {
				err = nil
			}
			return n, err
		}
		// Nothing there: a new attempt truncated the file; wait for it.
	}
}

func (r *growingReader) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}
