package source

import (
	"fmt"

	"github.com/airlockhq/airlock/concourse"
)

// Warning says that the S3 resource regexp of one image series also
// matches another series' key in the same bucket (see
// concourse.Collisions).
type Warning struct {
	Target       Target // whose Regexp matches too much
	Other        Target // the key it also matches
	Capture      string // what the resource would read as the version
	ValidVersion bool   // whether the resource can parse Capture
}

func (w Warning) String() string {
	s := fmt.Sprintf("%s: regexp %s for %s also matches %s (%s) as version %q",
		w.Target.Where(), w.Target.Regexp, w.Target.Request.Ref, w.Other.Key, w.Other.Request.Ref, w.Capture)
	if !w.ValidVersion {
		s += ", which is not a valid version: the S3 resource would fail for every pipeline using it"
	}
	return s
}

// Collisions returns a warning for every target whose Regexp matches the
// key of a target from a different series. Call it on Plan's or Resolve's
// result; it needs no network.
func Collisions(targets []Target) []Warning {
	series := make([]concourse.Series, len(targets))
	for i, t := range targets {
		series[i] = concourse.Series{Regexp: t.Regexp, Key: t.Key}
	}
	var ws []Warning
	for _, c := range concourse.Collisions(series) {
		ws = append(ws, Warning{Target: targets[c.Target], Other: targets[c.Other], Capture: c.Capture, ValidVersion: c.ValidVersion})
	}
	return ws
}
