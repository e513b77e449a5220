package lazyfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	s := Section(path, 2, 3)
	// Not opened before the first Read: the file may appear later.
	if err := os.WriteFile(path, []byte("abcdefg"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(s)
	if err != nil || string(b) != "cde" {
		t.Fatalf("read %q, %v; want cde", b, err)
	}
	if s.(*section).f != nil {
		t.Error("the file is still open at the end of the section")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	short, _ := io.ReadAll(Section(path, 5, 10))
	if string(short) != "fg" {
		t.Errorf("a section past the end read %q, want what is there", short)
	}
	_, err = io.ReadAll(Section(filepath.Join(t.TempDir(), "missing"), 0, 1))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestSectionOnce reads like Section (dropping the pages is
// writeback.Forget's, tested there) and closes its file at the end.
func TestSectionOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abcdefg"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := SectionOnce(path, 2, 3)
	b, err := io.ReadAll(s)
	if err != nil || string(b) != "cde" {
		t.Fatalf("read %q, %v; want cde", b, err)
	}
	if s.(*section).f != nil {
		t.Error("the file is still open at the end of the section")
	}
	again, err := io.ReadAll(SectionOnce(path, 0, 7))
	if err != nil || string(again) != "abcdefg" {
		t.Errorf("read again after the pages were dropped: %q, %v", again, err)
	}
}
