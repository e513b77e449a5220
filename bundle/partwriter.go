package bundle

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/internal/writeback"
)

// partWriter writes a byte stream into temporary files beside the final
// names, splitting every partSize bytes (0: one file). Commit renames them
// into place; Abort removes them. Nothing looks like a bundle before Commit.
type partWriter struct {
	base     string
	partSize int64
	files    []*atomicfile.File
	hashes   []hash.Hash        // of each data part, when split (for the part index)
	extra    []string           // final names of the files after the data parts
	written  int64              // bytes in the current file
	wb       *writeback.Tracker // hands the current file's bytes to the kernel to write out
	total    int64

	// dropBehind: the data parts from keepParts on leave the page cache
	// as they reach the disk (writeback.DropBehind). Those before are
	// read back after the stream (rehash), as is every part by a parity
	// pass, which therefore keeps them all.
	dropBehind bool
	keepParts  int
}

// dropBehindFrom makes the data parts from index keep on drop their bytes
// from the page cache once on disk: the writer reads them back neither
// for a part hash nor for parity.
func (w *partWriter) dropBehindFrom(keep int) { w.dropBehind, w.keepParts = true, keep }

func newPartWriter(base string, partSize int64) (*partWriter, error) {
	if err := CheckOutput(base); err != nil {
		return nil, err
	}
	return &partWriter{base: base, partSize: partSize}, nil
}

// CheckOutput tells whether a bundle can be written as out: its folder
// exists and takes new files, and no bundle file or part of that name is
// there yet (a *ExistsError). Call it before long work; Write checks again.
func CheckOutput(out string) error {
	base := BaseName(out)
	dir := filepath.Dir(base)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("output folder %s does not exist", dir)
	}
	if found := existing(base); len(found) > 0 {
		return &ExistsError{Path: found[0]}
	}
	probe, err := os.CreateTemp(dir, ".airlock-*.partial")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

func (w *partWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		if len(w.files) == 0 || (w.partSize > 0 && w.written == w.partSize) {
			if err := w.next(); err != nil {
				return done, err
			}
		}
		chunk := p
		if w.partSize > 0 && int64(len(chunk)) > w.partSize-w.written {
			chunk = chunk[:w.partSize-w.written]
		}
		n, err := w.files[len(w.files)-1].Write(chunk)
		if w.partSize > 0 {
			w.hashes[len(w.hashes)-1].Write(chunk[:n])
		}
		done += n
		w.written += int64(n)
		w.total += int64(n)
		if err != nil {
			return done, &WriteError{Path: w.finalName(len(w.files)), Err: err}
		}
		// Written out while the stream goes on: the fsync that closes
		// the part then finds little left.
		w.wb.Wrote(n)
		p = p[n:]
	}
	return done, nil
}

func (w *partWriter) next() error {
	if len(w.files) == MaxParts {
		return &TooManyPartsError{Size: int64(MaxParts)*w.partSize + 1, PartSize: w.partSize, Parts: MaxParts + 1}
	}
	if n := len(w.files); n > 0 {
		if err := w.files[n-1].Finish(); err != nil {
			return &WriteError{Path: w.finalName(n), Err: err}
		}
	}
	f, err := atomicfile.New(filepath.Dir(w.base), ".airlock-*.partial", 0o644) // a bundle is for sharing
	if err != nil {
		return &WriteError{Path: w.finalName(len(w.files) + 1), Err: err}
	}
	w.files = append(w.files, f)
	w.hashes = append(w.hashes, sha256.New())
	var opts []writeback.Option
	if w.dropBehind && len(w.files)-1 >= w.keepParts {
		opts = append(opts, writeback.DropBehind())
	}
	w.written, w.wb = 0, writeback.New(f.File, opts...)
	return nil
}

// addFile adds a temporary file that Commit renames to final, after the
// data parts are complete. The caller finishes it (Finish) when written.
func (w *partWriter) addFile(final string) (*atomicfile.File, error) {
	if len(w.extra) == 0 && len(w.files) > 0 {
		if err := w.files[len(w.files)-1].Finish(); err != nil {
			return nil, &WriteError{Path: w.finalName(len(w.files)), Err: err}
		}
	}
	f, err := atomicfile.New(filepath.Dir(w.base), ".airlock-*.partial", 0o644)
	if err != nil {
		return nil, &WriteError{Path: final, Err: err}
	}
	w.files = append(w.files, f)
	w.extra = append(w.extra, final)
	return f, nil
}

// dataParts is the number of data parts written.
func (w *partWriter) dataParts() int { return len(w.files) - len(w.extra) }

func (w *partWriter) finalName(n int) string {
	if n > w.dataParts() {
		return w.extra[n-1-w.dataParts()]
	}
	if w.partSize == 0 {
		return SinglePath(w.base)
	}
	return PartPath(w.base, n)
}

// Commit syncs the files and renames them to their final names: added
// files (parity, index) first, the first part last, so that a crash midway
// leaves no file a reader starts from. The renames are one short step: the
// files were fsynced as they were finished, and the folder is fsynced once
// after the last rename.
// A rename never replaces a file: when a bundle file of this name appeared
// meanwhile (another export), Commit removes every file of its own and
// fails with a *ExistsError, leaving the other bundle alone. A ctx
// cancelled before the last rename (Ctrl-C) undoes the renames made, so
// an interrupted export leaves no file named like the bundle.
func (w *partWriter) Commit(ctx context.Context) ([]string, error) {
	if len(w.files) == 0 {
		return nil, errors.New("nothing was written")
	}
	names := make([]string, len(w.files))
	for i := range w.files {
		names[i] = w.finalName(i + 1)
		if err := w.files[i].Finish(); err != nil {
			return nil, &WriteError{Path: names[i], Err: err}
		}
	}
	for i := len(w.files) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			removeAll(names[i+1:])
			return nil, err
		}
		if err := atomicfile.RenameNoReplace(w.files[i].Name(), names[i]); err != nil {
			removeAll(names[i+1:])
			if errors.Is(err, fs.ErrExist) {
				return nil, &ExistsError{Path: names[i], Appeared: true}
			}
			return nil, &WriteError{Path: names[i], Err: err}
		}
	}
	w.files = nil // renamed: nothing left for Abort
	// A bundle of another shape (one file against parts, or more parts)
	// has other names, so the renames did not collide with it.
	for _, f := range existing(w.base) {
		if !slices.Contains(names, f) {
			removeAll(names)
			return nil, &ExistsError{Path: f, Appeared: true}
		}
	}
	if err := atomicfile.SyncDir(filepath.Dir(w.base)); err != nil {
		removeAll(names)
		return nil, &WriteError{Path: filepath.Dir(w.base), Err: err}
	}
	return names, nil
}

// Abort removes every temporary file.
func (w *partWriter) Abort() {
	for _, f := range w.files {
		f.Abort()
	}
	w.files = nil
}

func removeAll(names []string) {
	for _, n := range names {
		os.Remove(n)
	}
}
