package manifest

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/concourse"
)

// Fixed entry names at the start of every bundle.
const (
	SumsName     = "SHA256SUMS"
	SigName      = "SHA256SUMS.sig"
	ManifestName = "manifest.json"
)

// MaxNameLen bounds entry names.
const MaxNameLen = 1024

// CheckName reports whether name is acceptable as a bundle entry name: a
// clean relative slash path of concourse.IsKeyRune characters (letters,
// digits and "._+-/", the character set of S3 keys) that never leaves the
// folder it is unpacked into.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("empty entry name")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("entry name longer than %d bytes", MaxNameLen)
	}
	if strings.HasPrefix(name, "/") {
		return fmt.Errorf("entry name %q is absolute", name)
	}
	if slices.Contains(strings.Split(name, "/"), "..") {
		return fmt.Errorf("entry name %q leaves the bundle folder", name)
	}
	if path.Clean(name) != name {
		return fmt.Errorf("entry name %q is not a clean path", name)
	}
	for _, r := range name {
		if !concourse.IsKeyRune(r) {
			return fmt.Errorf("entry name %q has character %q; allowed are letters, digits and ._+-/", name, r)
		}
	}
	return nil
}
