package source

import (
	"fmt"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/airlockhq/airlock/concourse"
)

// hintOverride ends errors that an "as NAME:VERSION" override would fix.
const hintOverride = `; add "as NAME:VERSION"`

// NameVersion returns the NAME and VERSION the request is exported as.
// NAME is AsName, else the last path element of the repository
// ("docker.io/library/ubuntu:22.04" gives "ubuntu"); VERSION is AsVersion,
// else the tag written in the reference ("latest" when there is none). A
// reference pinned only by digest has no version and needs an override.
// Both are validated with ValidateName and ValidateVersion.
func (r Request) NameVersion() (nm, version string, err error) {
	ref, err := parseRef(r.Ref)
	if err != nil {
		return "", "", err
	}
	nm, version = r.AsName, r.AsVersion
	if nm == "" {
		nm = path.Base(ref.Context().RepositoryStr())
	}
	if version == "" {
		if version, err = tagOf(r.Ref, ref); err != nil {
			return "", "", err
		}
	}
	if err := concourse.ValidateName(nm); err != nil {
		return "", "", fmt.Errorf("%s: %w", r.Ref, err)
	}
	if err := concourse.ValidateVersion(version); err != nil {
		return "", "", fmt.Errorf("%s: %w%s", r.Ref, err, hintVersion(r))
	}
	return nm, version, nil
}

func hintVersion(r Request) string {
	if r.AsVersion != "" {
		return ""
	}
	return `; add "as NAME:VERSION" with a valid version`
}

// parseRef parses a reference the way the registry client will.
func parseRef(s string, opts ...name.Option) (name.Reference, error) {
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", s, err)
	}
	return ref, nil
}

// tagOf returns the tag of ref. For a digest reference it is the tag
// written before "@" (name:tag@sha256:...), which go-containerregistry
// drops; without one the reference has no version.
func tagOf(s string, ref name.Reference) (string, error) {
	if t, ok := ref.(name.Tag); ok {
		return t.TagStr(), nil
	}
	base, _, _ := strings.Cut(s, "@")
	slash := strings.LastIndex(base, "/")
	if colon := strings.LastIndex(base, ":"); colon > slash {
		return base[colon+1:], nil
	}
	return "", fmt.Errorf("%s is pinned by digest and has no tag to use as the version%s", s, hintOverride)
}
