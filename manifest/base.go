package manifest

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/airlockhq/airlock/concourse"
)

// Base is what a delta bundle was cut against (docs/format.md section 5,
// Delta base): the images a receipt listed present that the delta leaves
// out, which the bucket it is imported into must hold already.
type Base struct {
	Bucket  string       `json:"bucket"`                   // the receipt's bucket, for messages
	Prefix  string       `json:"prefix"`                   // the import prefix the keys are relative to
	Created time.Time    `json:"receipt_created"`          // when the receipt's bucket was checked
	Signer  string       `json:"receipt_signer,omitempty"` // key id that verified the receipt; empty when unchecked
	Objects []BaseObject `json:"objects"`                  // in key order
}

// BaseObject is one image a delta leaves out, as the receipt records it.
type BaseObject struct {
	Key    string `json:"key"` // relative to Prefix
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BaseError is a base that breaks a rule of docs/format.md section 5
// (rules 10 and 11).
type BaseError struct {
	Key string // the object at fault; empty for the base's own fields
	Err error
}

func (e *BaseError) Error() string {
	if e.Key == "" {
		return "base: " + e.Err.Error()
	}
	return fmt.Sprintf("base object %q: %v", e.Key, e.Err)
}

func (e *BaseError) Unwrap() error { return e.Err }

var (
	bucketChars = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,255}$`)
	keyIDChars  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// Validate checks b as a reader must (rules 10 and 11); imageKeys are the
// keys of the manifest's image entries, which b must not list.
func (b *Base) Validate(imageKeys map[string]string) error {
	fail := func(key, format string, args ...any) error {
		return &BaseError{Key: key, Err: fmt.Errorf(format, args...)}
	}
	if b.Prefix != "" {
		if !strings.HasSuffix(b.Prefix, "/") {
			return fail("", "prefix %q does not end in /", b.Prefix)
		}
		if err := concourse.ValidateKey(b.Prefix + "x.tgz"); err != nil {
			return fail("", "prefix %q: %v", b.Prefix, err)
		}
	}
	if !bucketChars.MatchString(b.Bucket) {
		return fail("", "bucket %q is not 1-255 characters of a-z A-Z 0-9 . _ -", b.Bucket)
	}
	if b.Signer != "" && !keyIDChars.MatchString(b.Signer) {
		return fail("", "receipt_signer %q is not a key id (16 lowercase hex digits)", b.Signer)
	}
	seen := map[string]bool{}
	for _, o := range b.Objects {
		if err := concourse.ValidateKey(o.Key); err != nil {
			return fail(o.Key, "%w", err)
		}
		if seen[o.Key] {
			return fail(o.Key, "listed twice")
		}
		seen[o.Key] = true
		if path, ok := imageKeys[o.Key]; ok {
			return fail(o.Key, "is also the key of entry %s; a delta does not both ship and leave out a key", path)
		}
		if o.Size < 0 {
			return fail(o.Key, "negative size")
		}
		if !IsSHA256Hex(o.SHA256) {
			return fail(o.Key, "malformed sha256 %q", o.SHA256)
		}
	}
	return nil
}
