package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// BinariesFolder is the folder of carried airlock binaries in a bundle
// (docs/format.md section 14): BinariesFolder + VERSION + "/" + the file.
const BinariesFolder = "airlock/"

// Binary describes an airlock binary carried for the disconnected side.
type Binary struct {
	Version  string `json:"version"`  // what the binary reports as its version
	Platform string `json:"platform"` // os/arch
}

var (
	binaryVersion  = regexp.MustCompile(`\A[0-9A-Za-z][0-9A-Za-z._+-]{0,63}\z`)
	binaryPlatform = regexp.MustCompile(`\A[a-z0-9]{1,16}/[a-z0-9]{1,16}\z`)
)

// FileName is the binary's file name: airlock-OS-ARCH, with .exe on
// windows.
func (b Binary) FileName() string {
	name := "airlock-" + strings.ReplaceAll(b.Platform, "/", "-")
	if strings.HasPrefix(b.Platform, "windows/") {
		name += ".exe"
	}
	return name
}

// Path is the entry path of the binary in a bundle.
func (b Binary) Path() string { return BinariesFolder + b.Version + "/" + b.FileName() }

// Check validates b as the binary of the entry at path (section 14).
func (b Binary) Check(path string) error {
	fail := func(err error) error { return &EntryError{path, fmt.Errorf("binary: %w", err)} }
	switch {
	case !binaryVersion.MatchString(b.Version):
		return fail(fmt.Errorf("version %q: want 1-64 of 0-9 A-Z a-z . _ + -, starting with a letter or digit", b.Version))
	case !binaryPlatform.MatchString(b.Platform):
		return fail(fmt.Errorf("platform %q: want os/arch, lowercase letters and digits", b.Platform))
	case path != b.Path():
		return fail(fmt.Errorf("the entry of airlock %s for %s must be %s", b.Version, b.Platform, b.Path()))
	}
	return nil
}

// checkBinaryEntry applies section 14 to e: a binary only under
// BinariesFolder, never with an image, and nothing else there.
func checkBinaryEntry(e *Entry) error {
	under := strings.HasPrefix(e.Path, BinariesFolder)
	switch {
	case e.Binary == nil && under:
		return &EntryError{e.Path, errors.New("an entry under " + BinariesFolder + " must describe its binary")}
	case e.Binary == nil:
		return nil
	case e.Image != nil:
		return &EntryError{e.Path, errors.New("an entry is an image or a binary, not both")}
	}
	return e.Binary.Check(e.Path)
}
