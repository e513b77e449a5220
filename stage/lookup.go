package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Lookup returns key's entry if it is complete. The data file's size must
// match the record and every data file it refers to (PutWithRefs) must be
// there; an entry whose file or a referred file is missing, whose file is
// truncated or whose record is unreadable is removed and reported as
// missing. The data is not
// re-hashed here (the bundle writer hashes it while streaming and compares
// with Entry.SHA256). A hit marks the entry as used for Prune.
func (c *Cache) Lookup(key string) (Entry, bool, error) {
	if err := checkKey(key); err != nil {
		return Entry{}, false, err
	}
	r, err := c.readRecord(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Entry{}, false, nil
	case err != nil:
		return Entry{}, false, c.drop(key, "")
	}
	e := c.entry(r)
	fi, err := os.Stat(e.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Entry{}, false, c.drop(key, "")
	case err != nil:
		return Entry{}, false, fmt.Errorf("checking stage file %s: %w", e.Path, err)
	case fi.Size() != r.Size || !fi.Mode().IsRegular():
		return Entry{}, false, c.drop(key, e.Path)
	}
	for _, ref := range r.Refs {
		fi, err := os.Stat(filepath.Join(c.dir, ref))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return Entry{}, false, c.drop(key, e.Path)
		case err != nil:
			return Entry{}, false, fmt.Errorf("checking stage file %s: %w", ref, err)
		case !fi.Mode().IsRegular():
			return Entry{}, false, c.drop(key, e.Path)
		}
	}
	now := time.Now()
	_ = os.Chtimes(c.recordPath(key), now, now) // best effort, for Prune and Shrink
	for _, ref := range r.Refs {
		// The entries it refers to are used as much as it is.
		owner, _, _ := strings.Cut(ref, "-")
		_ = os.Chtimes(c.recordPath(owner), now, now)
	}
	return e, true, nil
}

// drop removes a broken entry: its record, then its data file if known.
func (c *Cache) drop(key, data string) error {
	if err := removeIfExists(c.recordPath(key)); err != nil {
		return fmt.Errorf("removing broken stage entry: %w", err)
	}
	if data == "" {
		return nil
	}
	if err := removeIfExists(data); err != nil {
		return fmt.Errorf("removing broken stage entry: %w", err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
