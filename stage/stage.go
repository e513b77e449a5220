package stage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockhq/airlock/manifest"
)

// Cache is a staging directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Cache struct {
	dir string
}

// Entry is a complete cached file.
type Entry struct {
	Path   string          // the data file
	Size   int64           // its size in bytes
	SHA256 string          // its sha256, lowercase hex
	Meta   json.RawMessage // what Put's fill returned, as JSON; nil if none; covered by the record's meta_sha256, not by SHA256
	Refs   []string        // PutWithRefs: names of other entries' data files (in Cache.Dir) whose bytes this entry uses
}

// DefaultDir is the staging directory under the user's cache directory,
// e.g. ~/.cache/airlock/stage.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(d, "airlock", "stage"), nil
}

// Open opens the cache in dir (DefaultDir if empty), creating the
// directory if needed.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening stage cache: %w", err)
	}
	return &Cache{dir: dir}, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Key addresses the conversion of the image with manifest digest (e.g.
// "sha256:ab..."), for platform (e.g. "linux/amd64"), by a converter
// whose output is fixed by settings (e.g. rootfs.OutputSettings): settings
// must change whenever the converter's output bytes would.
func Key(digest, platform, settings string) string {
	h := sha256.New()
	for _, s := range []string{"airlock-stage-v2", digest, platform, settings} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkKey refuses anything but a Key, which also keeps paths inside dir.
func checkKey(key string) error {
	if !manifest.IsSHA256Hex(key) {
		return fmt.Errorf("invalid stage key %q: want 64 lowercase hex digits", key)
	}
	return nil
}

func (c *Cache) recordPath(key string) string {
	return filepath.Join(c.dir, key+".json")
}

// isDataName reports whether name is a data file's name.
func isDataName(name string) bool {
	key, sum, ok := strings.Cut(strings.TrimSuffix(name, ".tgz"), "-")
	return ok && strings.HasSuffix(name, ".tgz") && checkKey(key) == nil && manifest.IsSHA256Hex(sum)
}

// dataName is the data file's name: the key and the content's sha256.
func dataName(key, sum string) string {
	return key + "-" + sum + ".tgz"
}
