package manifest

import (
	"fmt"
	"regexp"
	"time"
)

// Freshness is a bundle's place in its channel (docs/format.md section 5,
// Freshness): what lets an importer refuse an old bundle replayed and
// notice a site frozen on old images.
type Freshness struct {
	Channel  string    `json:"channel"`
	Sequence uint64    `json:"sequence"`
	Expires  time.Time `json:"expires"`
	Previous string    `json:"previous,omitempty"` // digest of the channel's bundle before this one
}

var channelChars = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// CheckChannel checks a channel name: 1-64 characters of a-z 0-9 . _ -,
// starting with a letter or digit, so it is safe in an S3 key and a file
// name.
func CheckChannel(name string) error {
	if !channelChars.MatchString(name) {
		return fmt.Errorf("channel %q is not 1-64 characters of a-z 0-9 . _ - starting with a letter or digit", name)
	}
	return nil
}

// FreshnessError is a freshness object that breaks the rules of
// docs/format.md section 5.
type FreshnessError struct{ Err error }

func (e *FreshnessError) Error() string { return "freshness: " + e.Err.Error() }
func (e *FreshnessError) Unwrap() error { return e.Err }

// Validate checks f of a manifest created at created.
func (f *Freshness) Validate(created time.Time) error {
	fail := func(format string, args ...any) error { return &FreshnessError{fmt.Errorf(format, args...)} }
	if err := CheckChannel(f.Channel); err != nil {
		return &FreshnessError{err}
	}
	if f.Sequence == 0 {
		return fail("sequence 0; sequences start at 1")
	}
	if !f.Expires.After(created) {
		return fail("expires %s is not after created %s", f.Expires.Format(time.RFC3339), created.Format(time.RFC3339))
	}
	if f.Previous != "" && !IsSHA256Hex(f.Previous) {
		return fail("malformed previous digest %q", f.Previous)
	}
	return nil
}
