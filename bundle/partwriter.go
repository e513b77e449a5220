package bundle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
)

// partWriter writes a byte stream into temporary files beside the final
// names, splitting every partSize bytes (0: one file). It hashes each part
// as it goes. Files added with addFile (parity, index) join the same commit.
// Commit renames them into place; Abort removes them. Nothing looks like a
// bundle before Commit.
type partWriter struct {
	base     string
	partSize int64
	temps    []*os.File
	hashes   []hash.Hash // of each data part
	extra    []string    // final names of the temps after the data parts
	written  int64       // bytes in the current file
	total    int64
}

func newPartWriter(base string, partSize int64) (*partWriter, error) {
	if err := CheckOutput(base); err != nil {
		return nil, err
	}
	return &partWriter{base: base, partSize: partSize}, nil
}

// CheckOutput tells whether a bundle can be written as out: its folder
// exists and no bundle file or part of that name is there yet. Call it
// before long work; Write checks again.
func CheckOutput(out string) error {
	base := BaseName(out)
	dir := filepath.Dir(base)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("output folder %s does not exist", dir)
	}
	if found := existing(base); len(found) > 0 {
		return fmt.Errorf("%s already exists; remove it or choose another output name", found[0])
	}
	return nil
}

func (w *partWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		if len(w.temps) == 0 || (w.partSize > 0 && w.written == w.partSize) {
			if err := w.next(); err != nil {
				return done, err
			}
		}
		chunk := p
		if w.partSize > 0 && int64(len(chunk)) > w.partSize-w.written {
			chunk = chunk[:w.partSize-w.written]
		}
		n, err := w.temps[len(w.temps)-1].Write(chunk)
		w.hashes[len(w.hashes)-1].Write(chunk[:n])
		done += n
		w.written += int64(n)
		w.total += int64(n)
		if err != nil {
			return done, fmt.Errorf("writing %s: %w", w.finalName(len(w.temps)), err)
		}
		p = p[n:]
	}
	return done, nil
}

func (w *partWriter) next() error {
	if len(w.temps) == maxParts {
		return fmt.Errorf("bundle needs more than %d parts; choose a larger --part-size", maxParts)
	}
	if len(w.temps) > 0 {
		if err := syncClose(w.temps[len(w.temps)-1]); err != nil {
			return err
		}
	}
	if _, err := w.createTemp(); err != nil {
		return err
	}
	w.hashes = append(w.hashes, sha256.New())
	w.written = 0
	return nil
}

func (w *partWriter) createTemp() (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(w.base), ".airlock-*.partial")
	if err != nil {
		return nil, fmt.Errorf("creating output: %w", err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600; a bundle is for sharing
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("creating output: %w", err)
	}
	w.temps = append(w.temps, f)
	return f, nil
}

// addFile adds a temporary file that Commit renames to final, after the
// data parts are complete. The caller syncs and closes it (syncClose).
func (w *partWriter) addFile(final string) (*os.File, error) {
	if len(w.extra) == 0 && len(w.temps) > 0 {
		if err := syncClose(w.temps[len(w.temps)-1]); err != nil {
			return nil, err
		}
	}
	f, err := w.createTemp()
	if err == nil {
		w.extra = append(w.extra, final)
	}
	return f, err
}

// dataParts is the number of data parts written.
func (w *partWriter) dataParts() int { return len(w.temps) - len(w.extra) }

func (w *partWriter) finalName(n int) string {
	if n > w.dataParts() {
		return w.extra[n-1-w.dataParts()]
	}
	if w.partSize == 0 {
		return SinglePath(w.base)
	}
	return PartPath(w.base, n)
}

// Commit syncs the files and renames them to their final names, the first
// part last, so that a crash midway leaves no file a reader starts from.
func (w *partWriter) Commit() ([]string, error) {
	if len(w.temps) == 0 {
		return nil, errors.New("nothing was written")
	}
	if len(w.extra) == 0 { // added files are synced and closed by their writer
		if err := syncClose(w.temps[len(w.temps)-1]); err != nil {
			return nil, err
		}
	}
	// Added files (index, parity) are renamed first, the first part last.
	names := make([]string, len(w.temps))
	for i := len(w.temps) - 1; i >= 0; i-- {
		names[i] = w.finalName(i + 1)
		if err := os.Rename(w.temps[i].Name(), names[i]); err != nil {
			for _, done := range names[i+1:] {
				os.Remove(done)
			}
			return nil, fmt.Errorf("renaming output into place: %w", err)
		}
	}
	syncDir(filepath.Dir(w.base))
	return names, nil
}

// Abort removes every temporary file.
func (w *partWriter) Abort() {
	for _, f := range w.temps {
		f.Close()
		os.Remove(f.Name())
	}
	w.temps = nil
}

func syncClose(f *os.File) error {
	err := f.Sync()
	if cerr := f.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
