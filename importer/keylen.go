package importer

import (
	"fmt"
	"slices"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/record"
)

// MaxKeyLen is S3's limit on an object key: 1024 bytes of UTF-8.
const MaxKeyLen = 1024

// KeyTooLongError is an import that would write keys longer than S3
// allows: the prefix and the bundle's keys together are too long. It is
// found before anything is uploaded; nothing was written.
type KeyTooLongError struct {
	Prefix string
	// Keys are every key too long, longest first.
	Keys []string
	// MaxPrefix is the longest prefix (in bytes) with which every key of
	// the bundle fits.
	MaxPrefix int
}

func (e *KeyTooLongError) Error() string {
	return fmt.Sprintf("import would write %d key(s) longer than S3's limit of %d bytes, such as %s (%d bytes); the prefix is %d bytes",
		len(e.Keys), MaxKeyLen, e.Keys[0], len(e.Keys[0]), len(e.Prefix))
}

// writeKeys are the keys, relative to the import prefix, that importing r
// may write: its image objects, carried signatures, its record and its
// channel state.
func writeKeys(r *bundle.Reader) []string {
	var keys []string
	for _, e := range imported(r.Manifest) {
		if k, ok := importKey(e, ""); ok {
			keys = append(keys, k)
		}
	}
	if f := r.Manifest.Freshness; f != nil {
		keys = append(keys, freshness.Key("", r.Signer.ID, f.Channel))
	}
	return append(keys, record.Keys("", r.ID)...)
}

// checkKeyLengths refuses, with a *KeyTooLongError, an import under prefix
// that would write a key longer than S3 allows: found before any upload,
// not after the first objects are in and the record cannot follow.
func checkKeyLengths(r *bundle.Reader, prefix string) error {
	longest := 0
	var over []string
	for _, k := range writeKeys(r) {
		longest = max(longest, len(k))
		if len(prefix)+len(k) > MaxKeyLen {
			over = append(over, prefix+k)
		}
	}
	if len(over) == 0 {
		return nil
	}
	slices.SortStableFunc(over, func(a, b string) int { return len(b) - len(a) })
	return &KeyTooLongError{Prefix: prefix, Keys: over, MaxPrefix: MaxKeyLen - longest}
}
