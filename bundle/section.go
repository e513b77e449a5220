package bundle

import (
	"fmt"
	"io"
	"os"
)

// Section reads n bytes of the bundle's tar stream from offset off, across
// parts, from the files the Reader was opened on: format 2's import reads
// members back by the offsets Next gave (Entry.Offset) after the verifying
// pass. The files are opened again, so the bytes are those on the media
// now: callers check them (an assembled tgz against its signed sha256).
// Close the result.
func (r *Reader) Section(off, n int64) io.ReadCloser {
	return &section{paths: r.parts.paths, ends: r.parts.ends, off: off, left: n}
}

type section struct {
	paths []string
	ends  []int64
	off   int64 // stream offset of the next byte
	left  int64
	idx   int
	f     *os.File
}

func (s *section) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return 0, err
		}
	}
	start := int64(0)
	if s.idx > 0 {
		start = s.ends[s.idx-1]
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	if rest := s.ends[s.idx] - s.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := s.f.ReadAt(p, s.off-start)
	s.off += int64(n)
	s.left -= int64(n)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	if err == io.EOF {
		return n, fmt.Errorf("bundle part %s is shorter than when it was verified: %w", s.paths[s.idx], io.ErrUnexpectedEOF)
	}
	if err != nil {
		return n, fmt.Errorf("reading bundle part %s: %w", s.paths[s.idx], err)
	}
	if s.off == s.ends[s.idx] {
		s.f.Close()
		s.f = nil
	}
	return n, nil
}

// open opens the part holding s.off.
func (s *section) open() error {
	s.idx = len(s.ends) - 1
	for i, end := range s.ends {
		if s.off < end {
			s.idx = i
			break
		}
	}
	if s.off >= s.ends[s.idx] {
		return fmt.Errorf("bundle part %s: offset %d lies past the end of the bundle: %w", s.paths[s.idx], s.off, io.ErrUnexpectedEOF)
	}
	f, err := os.Open(s.paths[s.idx])
	if err != nil {
		return fmt.Errorf("opening bundle part again: %w", err)
	}
	s.f = f
	return nil
}

func (s *section) Close() error {
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}
