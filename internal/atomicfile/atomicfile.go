package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a temporary file that becomes a real one on Commit.
type File struct {
	*os.File
	closed, done bool
}

// New creates a temporary file in dir, named after pattern as
// os.CreateTemp does, with permissions perm.
func New(dir, pattern string, perm fs.FileMode) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil { // CreateTemp makes 0600
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f}, nil
}

// Finish fsyncs and closes the file; later calls do nothing. Commit calls
// it; call it early to release the file before a later Commit.
func (f *File) Finish() error {
	if f.closed {
		return nil
	}
	f.closed = true
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// Commit finishes the file and renames it to path, replacing what is
// there, then fsyncs path's folder.
func (f *File) Commit(path string) error {
	return f.commit(path, os.Rename)
}

// CommitNoReplace is Commit, except that it fails when path exists,
// leaving it alone, with an error for which errors.Is(err, fs.ErrExist)
// holds. The check and the rename are one atomic step where the file
// system supports it (see RenameNoReplace).
func (f *File) CommitNoReplace(path string) error {
	return f.commit(path, RenameNoReplace)
}

func (f *File) commit(path string, rename func(old, new string) error) error {
	if f.done {
		return errors.New("atomicfile: committed twice")
	}
	if err := f.Finish(); err != nil {
		return err
	}
	if err := rename(f.Name(), path); err != nil {
		return err
	}
	f.done = true
	return SyncDir(filepath.Dir(path))
}

// Abort closes and removes the temporary file unless it was committed.
// It is safe to defer right after New.
func (f *File) Abort() {
	if f.done {
		return
	}
	if !f.closed {
		f.closed = true
		f.File.Close()
	}
	os.Remove(f.Name())
	f.done = true
}

// WriteFile writes path through a temporary file in its folder, renamed
// into place (replacing path) only when fill succeeded. A path that exists
// and is not a regular file (/dev/stdout, a pipe) is written directly.
func WriteFile(path string, perm fs.FileMode, fill func(*os.File) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = fill(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	f, err := New(filepath.Dir(path), ".airlock-*.partial", perm)
	if err == nil {
		defer f.Abort()
		err = fill(f.File)
	}
	if err == nil {
		err = f.Commit(path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs a folder, making renames in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
