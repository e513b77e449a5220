package stage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/airlockhq/airlock/manifest"
)

// recordFormat is the version of the record layout.
const recordFormat = 1

// record is the JSON sidecar that makes an entry exist.
type record struct {
	Format int             `json:"format"`
	File   string          `json:"file"`
	Size   int64           `json:"size"`
	SHA256 string          `json:"sha256"`
	Meta   json.RawMessage `json:"meta,omitempty"`
	// MetaSHA256 covers Meta, so that a damaged byte of it is found like
	// a damaged byte of the data (SHA256 covers that).
	MetaSHA256 string `json:"meta_sha256,omitempty"`
	// Refs are the data files of other entries whose bytes this entry's
	// data uses (PutWithRefs), by name in the cache directory.
	Refs []string `json:"refs,omitempty"`
}

// metaSum is the sha256 of a record's meta as stored.
func metaSum(meta []byte) string {
	sum := sha256.Sum256(meta)
	return hex.EncodeToString(sum[:])
}

// readRecord reads key's record; os.ErrNotExist when there is none.
func (c *Cache) readRecord(key string) (record, error) {
	b, err := os.ReadFile(c.recordPath(key))
	if err != nil {
		return record{}, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("parsing stage record %s: %w", c.recordPath(key), err)
	}
	if err := r.check(key); err != nil {
		return record{}, fmt.Errorf("stage record %s: %w", c.recordPath(key), err)
	}
	return r, nil
}

// check makes sure a record names its own data file and a real sha256.
func (r record) check(key string) error {
	if !manifest.IsSHA256Hex(r.SHA256) {
		return fmt.Errorf("bad sha256 %q", r.SHA256)
	}
	if r.Format != recordFormat || r.File != dataName(key, r.SHA256) || r.Size < 0 {
		return fmt.Errorf("unexpected format %d, file %q or size %d", r.Format, r.File, r.Size)
	}
	for _, ref := range r.Refs {
		if !isDataName(ref) || ref == r.File {
			return fmt.Errorf("bad reference %q to another entry's data", ref)
		}
	}
	if len(r.Meta) > 0 && r.MetaSHA256 != metaSum(r.Meta) {
		return fmt.Errorf("its meta does not match its meta_sha256 %q", r.MetaSHA256)
	}
	return nil
}

func (c *Cache) entry(r record) Entry {
	return Entry{Path: filepath.Join(c.dir, r.File), Size: r.Size, SHA256: r.SHA256, Meta: r.Meta, Refs: r.Refs}
}
