package stage

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Info describes an entry of the cache.
type Info struct {
	Key  string
	Path string    // the data file
	Size int64     // bytes of the data file
	Used time.Time // last put or found by Lookup
}

// List returns the complete entries, most recently used first.
func (c *Cache) List() ([]Info, error) {
	files, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("listing stage cache: %w", err)
	}
	var infos []Info
	for _, f := range files {
		key, ok := strings.CutSuffix(f.Name(), ".json")
		if !ok || checkKey(key) != nil {
			continue
		}
		fi, err := f.Info()
		if err != nil {
			continue
		}
		r, err := c.readRecord(key)
		if err != nil {
			continue
		}
		e := c.entry(r)
		infos = append(infos, Info{Key: key, Path: e.Path, Size: e.Size, Used: fi.ModTime()})
	}
	slices.SortFunc(infos, func(a, b Info) int { return b.Used.Compare(a.Used) })
	return infos, nil
}

// Shrink removes the least recently used entries until the rest hold at
// most maxSize bytes of data, and returns the bytes it freed.
func (c *Cache) Shrink(maxSize int64) (int64, error) {
	infos, err := c.List()
	if err != nil {
		return 0, err
	}
	var total, freed int64
	for _, in := range infos {
		total += in.Size
	}
	for i := len(infos) - 1; i >= 0 && total > maxSize; i-- {
		if err := c.Remove(infos[i].Key); err != nil {
			return freed, err
		}
		total -= infos[i].Size
		freed += infos[i].Size
	}
	return freed, nil
}
