package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/concourse"
)

// ImagesFolder is the folder of image payloads in a bundle: an image
// entry's path is ImagesFolder + its key.
const ImagesFolder = "images/"

// EntryError is a manifest entry that breaks a rule of docs/format.md
// section 5.
type EntryError struct {
	Path string // the entry's path
	Err  error  // which rule, and how
}

func (e *EntryError) Error() string { return "entry " + e.Path + ": " + e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// Validate checks m as a reader must before trusting it (docs/format.md
// section 5): every entry path is a clean, unique, unreserved name with a
// size and a SHA-256, every image entry passes CheckImage, with keys unique
// across entries, and a delta's base passes Base.Validate. Parse calls it;
// a writer calls it before writing.
func (m *Manifest) Validate() error {
	paths := map[string]bool{}
	keys := map[string]string{}
	for i := range m.Entries {
		e := &m.Entries[i]
		if err := CheckName(e.Path); err != nil {
			return &EntryError{e.Path, err}
		}
		if isReserved(e.Path) || paths[e.Path] {
			return &EntryError{e.Path, errors.New("listed twice or uses a reserved name")}
		}
		paths[e.Path] = true
		if e.Size < 0 {
			return &EntryError{e.Path, errors.New("negative size")}
		}
		if !IsSHA256Hex(e.SHA256) {
			return &EntryError{e.Path, errors.New("malformed sha256")}
		}
		if err := checkBinaryEntry(e); err != nil {
			return err
		}
		if e.Image == nil {
			continue
		}
		if m.Format == FormatV2 {
			return &EntryError{e.Path, errors.New("an entry has no image in format 2: images are in \"images\"")}
		}
		if err := CheckImage(e.Path, e.Image); err != nil {
			return err
		}
		if other, ok := keys[e.Image.Key]; ok {
			return &EntryError{e.Path, fmt.Errorf("key %q is also the key of entry %s; one image would replace the other", e.Image.Key, other)}
		}
		keys[e.Image.Key] = e.Path
	}
	if err := m.validateV2(keys); err != nil {
		return err
	}
	if m.Freshness != nil {
		if err := m.Freshness.Validate(m.Created); err != nil {
			return err
		}
	}
	if m.Base != nil {
		return m.Base.Validate(keys)
	}
	return nil
}

// CheckImage checks the image of the entry at path: a valid name and
// version (concourse.ValidateName, concourse.ValidateVersion), a clean key
// outside the record area (concourse.ValidateKey) inside the folder NAME/
// (concourse.CheckKeyFolder), path = ImagesFolder + key, and, when a
// regexp is recorded, one that reads exactly the version from the key as
// the S3 resource applies it (concourse.CheckRegexp), a compression
// that is absent or one of Compressions, a lint, when recorded, that
// passes Lint.Check, and a signature record, when recorded, that passes
// Signature.Check. Failures are *EntryError.
func CheckImage(path string, im *Image) error {
	fail := func(rule string, err error) error { return &EntryError{path, fmt.Errorf("image %s: %w", rule, err)} }
	if err := concourse.ValidateName(im.Name); err != nil {
		return fail("name", err)
	}
	if err := concourse.ValidateVersion(im.Version); err != nil {
		return fail("version", err)
	}
	if err := concourse.ValidateKey(im.Key); err != nil {
		return fail("key", err)
	}
	if err := concourse.CheckKeyFolder(im.Key, im.Name); err != nil {
		return fail("key", err)
	}
	if path != ImagesFolder+im.Key {
		return fail("key", fmt.Errorf("key %q does not match the entry path; want path %s", im.Key, ImagesFolder+im.Key))
	}
	if im.Regexp != "" {
		if err := concourse.CheckRegexp(im.Regexp, im.Key, im.Version); err != nil {
			return fail("regexp", err)
		}
	}
	if err := im.Compression.Check(); err != nil {
		return fail("compression", fmt.Errorf("%w (if a newer airlock wrote the bundle, upgrade)", err))
	}
	if im.Lint != nil {
		if err := im.Lint.Check(); err != nil {
			return fail("lint", err)
		}
	}
	if im.Signature != nil {
		if err := im.Signature.Check(); err != nil {
			return fail("signature", err)
		}
	}
	return nil
}

// SeriesRegexp returns the S3 resource regexp of im's series, relative to
// the import prefix: the recorded one, or for a bundle written before
// regexps were recorded, concourse.DeriveRegexp's reconstruction.
func (im *Image) SeriesRegexp() (string, error) {
	if im.Regexp != "" {
		return im.Regexp, nil
	}
	d := concourse.KeyData{Name: im.Name, Version: im.Version, Platform: im.Platform}
	p := strings.SplitN(im.Platform, "/", 3)
	d.OS = p[0]
	if len(p) > 1 {
		d.Arch = p[1]
	}
	if len(p) > 2 {
		d.Variant = p[2]
	}
	re, err := concourse.DeriveRegexp(im.Key, d)
	if err != nil {
		return "", fmt.Errorf("no regexp recorded for key %s (the bundle was written by an older airlock) and none can be derived: %w", im.Key, err)
	}
	return re, nil
}

// ConcourseImages returns what concourse.WriteImageResources needs for
// each image entry of m.
func (m *Manifest) ConcourseImages() ([]concourse.Image, error) {
	var out []concourse.Image
	for _, e := range m.ImageObjects() {
		im := e.Image
		re, err := im.SeriesRegexp()
		if err != nil {
			return nil, &EntryError{e.Path, err}
		}
		out = append(out, concourse.Image{Name: im.Name, Version: im.Version, Source: im.Source, Platform: im.Platform, Key: im.Key, Regexp: re})
	}
	return out, nil
}
