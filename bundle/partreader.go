package bundle

import (
	"fmt"
	"io"
	"os"
)

// partReader reads the parts of a bundle as one stream and knows which part
// it is in, so errors can name it.
type partReader struct {
	paths []string
	ends  []int64 // cumulative end offset of each part
	idx   int
	cur   *os.File
	n     int64 // bytes read so far
}

func openParts(paths []string) (*partReader, error) {
	ends := make([]int64, len(paths))
	var total int64
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("bundle part %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("bundle part %s is not a regular file", p)
		}
		total += fi.Size()
		ends[i] = total
	}
	f, err := os.Open(paths[0])
	if err != nil {
		return nil, fmt.Errorf("opening bundle: %w", err)
	}
	return &partReader{paths: paths, ends: ends, cur: f}, nil
}

func (r *partReader) Read(p []byte) (int, error) {
	for {
		n, err := r.cur.Read(p)
		r.n += int64(n)
		if err != io.EOF || n > 0 {
			if err == io.EOF {
				err = nil
			}
			return n, wrapPartErr(r.paths[r.idx], err)
		}
		if r.idx == len(r.paths)-1 {
			return 0, io.EOF
		}
		r.cur.Close()
		r.idx++
		f, err := os.Open(r.paths[r.idx])
		if err != nil {
			return 0, fmt.Errorf("opening bundle part: %w", err)
		}
		r.cur = f
	}
}

func wrapPartErr(part string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reading bundle part %s: %w", part, err)
}

// partAt names the part holding stream offset off.
func (r *partReader) partAt(off int64) string {
	for i, end := range r.ends {
		if off < end {
			return r.paths[i]
		}
	}
	return r.paths[len(r.paths)-1]
}

// span names the part or parts holding stream offsets [from, to).
func (r *partReader) span(from, to int64) string {
	first, last := r.partAt(from), r.partAt(max(from, to-1))
	if first == last {
		return first
	}
	return first + " to " + last
}

func (r *partReader) Close() error { return r.cur.Close() }
