package concourse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	semi "github.com/cppforlife/go-semi-semantic/version"
)

// MaxLen bounds names and versions.
const MaxLen = 128

// ValidateVersion reports whether v can be a Concourse S3 resource
// version. The resource parses versions with go-semi-semantic
// (RELEASE[-PRE_RELEASE][+POST_RELEASE] of letters, digits, '_' and '.',
// each "."-separated component non-empty, numbers fitting an int) and
// panics on the first one it cannot parse, breaking every pipeline that
// uses the folder. airlock is stricter: it also refuses a trailing "-",
// ':' and '@' (a digest or reference is never a version) and versions
// longer than MaxLen.
func ValidateVersion(v string) error {
	switch {
	case v == "":
		return errors.New("empty version")
	case len(v) > MaxLen:
		return fmt.Errorf("version %.20q... is longer than %d characters", v, MaxLen)
	case strings.ContainsAny(v, ":@"):
		return fmt.Errorf("invalid version %q: contains %q; a digest or reference is never a version", v, v[strings.IndexAny(v, ":@")])
	case strings.HasSuffix(v, "-"):
		return fmt.Errorf("invalid version %q: ends in %q", v, "-")
	}
	if _, err := semi.NewVersionFromString(v); err != nil {
		return fmt.Errorf("invalid version %q: %s", v, explain(err))
	}
	return nil
}

// explain turns go-semi-semantic's messages (pinned in go.mod) into
// airlock's wording; anything unknown is passed through.
func explain(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "to match version format"):
		return "want RELEASE[-PRE][+POST] of letters, digits, '_' and '.'"
	case strings.Contains(msg, "Expected component ''"):
		return "empty component (leading, trailing or doubled '.')"
	case strings.Contains(msg, "parseable integer"):
		return "a number in it is too large (" + msg + ")"
	}
	return msg
}

// Version is a version parsed as the S3 resource parses it.
type Version struct {
	s string
	v semi.Version
}

// ParseVersion parses v the way the S3 resource does. It accepts every
// version the resource accepts (some of which ValidateVersion refuses,
// such as a trailing "-"), so it can order what is already in a bucket.
func ParseVersion(v string) (Version, error) {
	p, err := semi.NewVersionFromString(v)
	if err != nil {
		return Version{}, fmt.Errorf("invalid version %q: %s", v, explain(err))
	}
	return Version{s: v, v: p}, nil
}

// String returns the version as written.
func (v Version) String() string { return v.s }

// Compare orders versions as the S3 resource does: -1 when v is older
// than o, 0 when they are the same version ("1.0" and "1"), +1 when v is
// newer. Numeric components compare as numbers, other components as
// strings and above numbers ("latest" is newer than "22.04"); a
// pre-release sorts before its release ("1.2-rc1" < "1.2").
func (v Version) Compare(o Version) int { return v.v.Compare(o.v) }

// CompareVersions parses a and b with ParseVersion and compares them.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// SortVersions sorts vs from oldest to newest as the S3 resource orders
// them (stable, so equal versions keep their order); the last one is what
// the resource's check reports as the newest. It fails, leaving vs
// unchanged, when one cannot be parsed.
func SortVersions(vs []string) error {
	parsed := make([]Version, len(vs))
	for i, s := range vs {
		p, err := ParseVersion(s)
		if err != nil {
			return err
		}
		parsed[i] = p
	}
	slices.SortStableFunc(parsed, Version.Compare)
	for i, p := range parsed {
		vs[i] = p.s
	}
	return nil
}

// Floating reports whether the resource reads v's first component as text
// rather than a number ("latest", "stable", "alpine", "v2", and "04",
// whose leading zero makes it text). Text sorts above every number, so
// such a version becomes the newest of its series and every pipeline that
// does not pin a version switches to it.
func (v Version) Floating() bool {
	c := v.v.Release.Components
	if len(c) == 0 {
		return false
	}
	_, num := c[0].(semi.VerSegCompInt)
	return !num
}

// IsFloating is ParseVersion(v).Floating(), false for a version the
// resource cannot parse.
func IsFloating(v string) bool {
	p, err := ParseVersion(v)
	return err == nil && p.Floating()
}
