package stage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Remove deletes key's entry, if there is one.
func (c *Cache) Remove(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	r, rerr := c.readRecord(key)
	if err := removeIfExists(c.recordPath(key)); err != nil {
		return fmt.Errorf("removing stage entry %s: %w", key, err)
	}
	if rerr != nil {
		return nil
	}
	if err := removeIfExists(filepath.Join(c.dir, r.File)); err != nil {
		return fmt.Errorf("removing stage entry %s: %w", key, err)
	}
	return nil
}

// Prune removes entries last put or found by Lookup before the given
// time, and leftovers last modified before it: temporary files of
// interrupted Puts and data files no record names. It returns how many
// bytes it freed. Pass a time well in the past while other exports may be
// writing to the cache, or their files may be taken for leftovers.
func (c *Cache) Prune(before time.Time) (int64, error) {
	files, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("pruning stage cache: %w", err)
	}
	keep := c.keptData(files, before)
	var (
		freed int64
		errs  []error
	)
	for _, f := range files {
		info, err := f.Info()
		if err != nil || keep[f.Name()] || !info.ModTime().Before(before) || !ours(f.Name()) {
			continue
		}
		if err := removeIfExists(filepath.Join(c.dir, f.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		freed += info.Size()
	}
	if err := errors.Join(errs...); err != nil {
		return freed, fmt.Errorf("pruning stage cache: %w", err)
	}
	return freed, nil
}

// keptData names the records used since before and their data files.
func (c *Cache) keptData(files []os.DirEntry, before time.Time) map[string]bool {
	keep := map[string]bool{}
	for _, f := range files {
		key, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok || checkKey(key) != nil {
			continue
		}
		info, err := f.Info()
		if err != nil || info.ModTime().Before(before) {
			continue
		}
		if r, err := c.readRecord(key); err == nil {
			keep[f.Name()], keep[r.File] = true, true
			for _, ref := range r.Refs {
				keep[ref] = true
			}
		}
	}
	return keep
}

// ours reports whether name is a file the cache writes, so Prune leaves
// anything else in the directory alone.
func ours(name string) bool {
	if strings.HasPrefix(name, tempPrefix) {
		return true
	}
	if key, ok := strings.CutSuffix(name, ".json"); ok {
		return checkKey(key) == nil
	}
	return isDataName(name)
}
