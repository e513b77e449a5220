// Package lazyfile reads a section of a file that is opened only when the
// section is first read, so that a reader over many sections (the members
// of a tgz spread over several files) holds at most the files it is
// reading.
package lazyfile

import (
	"io"
	"os"

	"github.com/airlockhq/airlock/internal/writeback"
)

// Section reads n bytes at off of the file at path, opening it at the
// first Read and closing it at the end of the section (or on Close).
// A file shorter than off+n ends the section early, with io.EOF.
func Section(path string, off, n int64) io.ReadCloser {
	return &section{path: path, off: off, n: n}
}

// SectionOnce is Section for bytes this process reads once (a staged
// file copied into a bundle): at the end of the section, or on Close,
// its pages leave the page cache (writeback.Forget). Reading them again
// still works, from disk.
func SectionOnce(path string, off, n int64) io.ReadCloser {
	return &section{path: path, off: off, n: n, forget: true}
}

type section struct {
	path   string
	off, n int64
	forget bool
	f      *os.File
	r      io.Reader
}

func (s *section) Read(p []byte) (int, error) {
	if s.r == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return 0, err
		}
		s.f, s.r = f, io.NewSectionReader(f, s.off, s.n)
	}
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.Close()
	}
	return n, err
}

func (s *section) Close() error {
	if s.f == nil {
		return nil
	}
	if s.forget {
		writeback.Forget(s.f, s.off, s.n)
	}
	err := s.f.Close()
	s.f = nil
	return err
}
