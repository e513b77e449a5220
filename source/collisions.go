package source

import (
	"fmt"
	"regexp"
	"strings"
)

// Warning says that the S3 resource regexp of one image series also
// matches another series' key in the same bucket, as `ubuntu-(.*)\.tgz`
// matches ubuntu-minimal-22.04.tgz when both share a folder. Pipelines
// using the regexp would then see the other image as a version (and, if
// Capture is not a valid version, the resource fails for all of them).
type Warning struct {
	Target       Target // whose Regexp matches too much
	Other        Target // the key it also matches
	Capture      string // what the resource would read as the version
	ValidVersion bool   // whether Capture passes ValidateVersion
}

func (w Warning) String() string {
	s := fmt.Sprintf("%s: regexp %s for %s also matches %s (%s) as version %q",
		w.Target.Where(), w.Target.Regexp, w.Target.Request.Ref, w.Other.Key, w.Other.Request.Ref, w.Capture)
	if !w.ValidVersion {
		s += ", which is not a valid version: the S3 resource would fail for every pipeline using it"
	}
	return s
}

// Collisions returns a warning for every target whose Regexp, applied as
// the S3 resource does (one anchored piece per key level), matches the
// key of a target from a different series. Call it on Plan's or Resolve's
// result; it needs no network.
func Collisions(targets []Target) []Warning {
	var ws []Warning
	seen := map[[2]string]bool{}
	for _, t := range targets {
		m, err := newLevelMatcher(t.Regexp)
		if err != nil {
			continue // not a regexp Plan made
		}
		for _, o := range targets {
			pair := [2]string{t.Regexp, o.Key}
			if o.Regexp == t.Regexp || seen[pair] {
				continue
			}
			if c, ok := m.match(o.Key); ok {
				seen[pair] = true
				ws = append(ws, Warning{Target: t, Other: o, Capture: c, ValidVersion: ValidateVersion(c) == nil})
			}
		}
	}
	return ws
}

// levelMatcher matches keys the way the S3 resource applies a regexp:
// split on "/", each piece anchored to one key level; the version is the
// first capture group.
type levelMatcher []*regexp.Regexp

func newLevelMatcher(re string) (levelMatcher, error) {
	var m levelMatcher
	for p := range strings.SplitSeq(re, "/") {
		r, err := regexp.Compile(`\A(?:` + p + `)\z`)
		if err != nil {
			return nil, err
		}
		m = append(m, r)
	}
	return m, nil
}

func (m levelMatcher) match(key string) (capture string, ok bool) {
	levels := strings.Split(key, "/")
	if len(levels) != len(m) {
		return "", false
	}
	found := false
	for i, re := range m {
		sub := re.FindStringSubmatch(levels[i])
		if sub == nil {
			return "", false
		}
		if !found && len(sub) > 1 {
			capture, found = sub[1], true
		}
	}
	return capture, true
}
