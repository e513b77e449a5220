package importer

import (
	"fmt"
	"slices"
	"strings"
)

// Conflict is one key where the bucket holds something other than the
// bundle's image.
type Conflict struct {
	Key  string
	Have string // the sha256 recorded on the object, "" when none
	Want string // the bundle's sha256
	// Meanwhile: the object appeared or changed after the import planned
	// (a conditional write was refused): another writer, such as a second
	// import at the same time, got there first. Have is unknown.
	Meanwhile bool
}

// ConflictError refuses to overwrite other content. Planning finds objects
// with another checksum (unless overwriting was allowed); a conditional
// write finds an object that another writer put there meanwhile. Nothing
// was overwritten.
type ConflictError struct {
	Bucket    string
	Conflicts []Conflict
	Err       error // the refused write, for a conflict found meanwhile
}

func (e *ConflictError) Unwrap() error { return e.Err }

func (e *ConflictError) Error() string {
	var planned, meanwhile []string
	for _, c := range e.Conflicts {
		if c.Meanwhile {
			meanwhile = append(meanwhile, c.Key)
			continue
		}
		have := c.Have
		if have == "" {
			have = "none recorded"
		}
		planned = append(planned, fmt.Sprintf("%s (sha256 %s, the bundle has %s)", c.Key, have, c.Want))
	}
	var msgs []string
	if len(planned) > 0 {
		msgs = append(msgs, fmt.Sprintf("bucket %s already holds other content at %s", e.Bucket, strings.Join(planned, ", ")))
	}
	if len(meanwhile) > 0 {
		msgs = append(msgs, fmt.Sprintf("another writer got to %s in bucket %s while this import ran; nothing was overwritten",
			strings.Join(meanwhile, ", "), e.Bucket))
	}
	return strings.Join(msgs, "; ")
}

// Meanwhile reports whether a conflict was found while writing, not planning.
func (e *ConflictError) Meanwhile() bool {
	return slices.ContainsFunc(e.Conflicts, func(c Conflict) bool { return c.Meanwhile })
}
