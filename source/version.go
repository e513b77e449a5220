package source

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// versionRE is the Concourse S3 resource's semi-semantic version grammar:
// RELEASE[-PRE_RELEASE][+POST_RELEASE].
var versionRE = regexp.MustCompile(`\A([0-9A-Za-z_.]+)(?:-([0-9A-Za-z_.-]+))?(?:\+([0-9A-Za-z_.-]+))?\z`)

// nameRE is a NAME that is safe as one S3 key level and in a regexp.
var nameRE = regexp.MustCompile(`\A[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?\z`)

const maxLen = 128

// ValidateVersion reports whether v can be a Concourse S3 resource
// version. The resource parses versions as "semi-semantic"
// (\A[0-9A-Za-z_.]+(-[0-9A-Za-z_.-]+)?(\+[0-9A-Za-z_.-]+)?\z, each
// "."-separated component non-empty, numbers fitting an int) and panics
// on the first one it cannot parse, breaking every pipeline that uses the
// folder. airlock is stricter in also refusing a trailing "-".
func ValidateVersion(v string) error {
	switch {
	case v == "":
		return errors.New("empty version")
	case len(v) > maxLen:
		return fmt.Errorf("version %.20q... is longer than %d characters", v, maxLen)
	case strings.ContainsAny(v, ":@"):
		return fmt.Errorf("invalid version %q: contains %q; a digest or reference is never a version", v, v[strings.IndexAny(v, ":@")])
	case strings.HasSuffix(v, "-"):
		return fmt.Errorf("invalid version %q: ends in %q", v, "-")
	}
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("invalid version %q: want RELEASE[-PRE][+POST] of letters, digits, '_' and '.'", v)
	}
	for _, seg := range m[1:] {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("invalid version %q: %w", v, err)
		}
	}
	return nil
}

// checkSegment checks the "."-separated components of one version segment;
// an empty segment is an absent optional part.
func checkSegment(seg string) error {
	if seg == "" {
		return nil
	}
	for c := range strings.SplitSeq(seg, ".") {
		if c == "" {
			return errors.New("empty component (leading, trailing or doubled '.')")
		}
		if isNumber(c) {
			if _, err := strconv.Atoi(c); err != nil {
				return fmt.Errorf("number %s is too large", c)
			}
		}
	}
	return nil
}

// isNumber reports whether the resource reads c as an integer: all digits
// without a leading zero (components like "04" compare as strings).
func isNumber(c string) bool {
	if c != "0" && strings.HasPrefix(c, "0") {
		return false
	}
	return strings.Trim(c, "0123456789") == ""
}

// ValidateName reports whether n can be a NAME: lowercase letters, digits
// and ".", "_", "-", starting and ending with a letter or digit, so it is
// one clean S3 key level.
func ValidateName(n string) error {
	switch {
	case n == "":
		return errors.New("empty name")
	case len(n) > maxLen:
		return fmt.Errorf("name %.20q... is longer than %d characters", n, maxLen)
	case !nameRE.MatchString(n):
		return fmt.Errorf("invalid name %q: use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit", n)
	}
	return nil
}
