package concourse

import (
	"fmt"
	"regexp"
	"strings"
)

// Levels is a regexp applied the way the S3 resource applies one: split
// on "/", each piece anchored to one key level. The version is the group
// named "version" if there is one, else the first group.
type Levels struct {
	levels  []*regexp.Regexp
	version int // index into the concatenated groups of all levels; -1 if none
}

// CompileLevels compiles re as the S3 resource would.
func CompileLevels(re string) (*Levels, error) {
	l := &Levels{version: -1}
	n := 0
	for p := range strings.SplitSeq(re, "/") {
		r, err := regexp.Compile(`\A(?:` + p + `)\z`)
		if err != nil {
			return nil, fmt.Errorf("regexp %q: %w", re, err)
		}
		for i, name := range r.SubexpNames()[1:] {
			if name == "version" || (n+i == 0 && l.version < 0) {
				l.version = n + i
			}
		}
		n += r.NumSubexp()
		l.levels = append(l.levels, r)
	}
	return l, nil
}

// Match reports whether key matches, and what the resource would read from
// it as the version.
func (l *Levels) Match(key string) (version string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != len(l.levels) {
		return "", false
	}
	var groups []string
	for i, r := range l.levels {
		m := r.FindStringSubmatch(parts[i])
		if m == nil {
			return "", false
		}
		groups = append(groups, m[1:]...)
	}
	if l.version >= 0 {
		version = groups[l.version]
	}
	return version, true
}

// CheckRegexp reports whether re, applied as the S3 resource applies it,
// matches key and reads exactly version from it.
func CheckRegexp(re, key, version string) error {
	l, err := CompileLevels(re)
	if err != nil {
		return err
	}
	if l.version < 0 {
		return fmt.Errorf("regexp %q has no group to capture the version", re)
	}
	got, ok := l.Match(key)
	if !ok {
		return fmt.Errorf("regexp %q does not match key %q", re, key)
	}
	if got != version {
		return fmt.Errorf("regexp %q reads version %q from key %q, not %q", re, got, key, version)
	}
	return nil
}

// DeriveRegexp reconstructs the regexp of a key written without one (by
// an airlock that did not record it): the regexp of DefaultKeyTemplate or
// MultiPlatformKeyTemplate when the key is what one of them gives for d,
// else the key with its only occurrence of d.Version replaced by (.*). It
// fails when the version occurs more than once, as which one the template
// put there cannot be told.
func DeriveRegexp(key string, d KeyData) (string, error) {
	for _, text := range []string{DefaultKeyTemplate, MultiPlatformKeyTemplate} {
		kt, err := ParseKeyTemplate(text)
		if err != nil {
			return "", err
		}
		if k, err := kt.Key(d); err == nil && k == key {
			return kt.Regexp(d)
		}
	}
	switch n := strings.Count(key, d.Version); {
	case d.Version == "" || n == 0:
		return "", fmt.Errorf("version %q does not occur in key %q", d.Version, key)
	case n > 1:
		return "", fmt.Errorf("version %q occurs %d times in key %q and no regexp was recorded, so which one is the version cannot be told", d.Version, n, key)
	}
	i := strings.Index(key, d.Version)
	re := regexp.QuoteMeta(key[:i]) + "(.*)" + regexp.QuoteMeta(key[i+len(d.Version):])
	if err := CheckRegexp(re, key, d.Version); err != nil {
		return "", err
	}
	return re, nil
}
