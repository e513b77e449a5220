package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
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

	// With a part index: each part is hashed as it is read and checked
	// when it ends, so a damaged part is named exactly.
	set  *PartSet
	h    hash.Hash
	done []bool // parts read to the end and matched
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
		if r.h != nil {
			r.h.Write(p[:n])
		}
		if err == io.EOF && n == 0 && r.h != nil && !r.done[r.idx] {
			if err := r.set.compare(r.idx, hex.EncodeToString(r.h.Sum(nil))); err != nil {
				return 0, err
			}
			r.done[r.idx] = true
			r.h.Reset()
		}
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

// after lists the parts that start at or after stream offset end (the end
// of the tar stream): they hold nothing of the bundle.
func (r *partReader) after(end int64) []Ignored {
	var out []Ignored
	for i := 1; i < len(r.paths); i++ {
		if r.ends[i-1] >= end {
			out = append(out, Ignored{Path: r.paths[i], Reason: fmt.Sprintf(
				"not a part of this bundle: its tar stream ends in %s; not read (remove it)", r.partAt(end-1))})
		}
	}
	return out
}

func (r *partReader) Close() error { return r.cur.Close() }

// checkParts makes r check each part against the set's index as it ends.
func (r *partReader) checkParts(set *PartSet) {
	r.set, r.h, r.done = set, sha256.New(), make([]bool, len(r.paths))
}

// finishPart reads the rest of the current part so that its hash is
// checked, and returns that check's failure, if any.
func (r *partReader) finishPart() error {
	if r.h == nil {
		return nil
	}
	idx := r.idx
	buf := make([]byte, copyBufferSize)
	for r.idx == idx && !r.done[idx] {
		if _, err := r.Read(buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}
