package verify

import (
	"errors"
	"strings"
)

// Error is a verification failure: the bundle (or bucket) is not what its
// signer made. It names the part and entry where the failure was found.
type Error struct {
	Part   string // bundle part file, when known
	Entry  string // bundle entry or object key, when known
	Reason string
	Kind   error // a sentinel such as ErrUntrustedSignature, for errors.Is; may be nil
	// Member is the name of the format 2 member whose bytes failed, when
	// the failure was found inside a pack (Entry).
	Member string
}

// ErrUntrustedSignature is the Kind of a failure where no trusted key
// verifies the bundle's signature.
var ErrUntrustedSignature = errors.New("signature does not match any trusted key")

// Unwrap returns the failure's kind.
func (e *Error) Unwrap() error { return e.Kind }

func (e *Error) Error() string {
	var where []string
	if e.Entry != "" {
		where = append(where, "entry "+e.Entry)
	}
	if e.Part != "" {
		where = append(where, "in part "+e.Part)
	}
	if len(where) == 0 {
		return "verification failed: " + e.Reason
	}
	return "verification failed: " + strings.Join(where, " ") + ": " + e.Reason
}

// IsFailure reports whether err is, or wraps, a verification failure.
func IsFailure(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
