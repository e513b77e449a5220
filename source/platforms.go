package source

import (
	"errors"
	"fmt"
	"strings"
)

// MissingPlatformsError says a reference lacks some requested platforms.
// Resolve exports the platforms it has and reports the others through
// WithPlatformWarnings, unless WithStrictPlatforms makes them an error;
// a reference with none of them is always an error.
type MissingPlatformsError struct {
	Where, Ref string
	Missing    []string // requested platforms it lacks
	Has        string   // the platforms it has
	None       bool     // it has none of the requested platforms
}

func (e *MissingPlatformsError) Error() string {
	if e.None {
		return fmt.Sprintf("%s: %s has none of the requested platforms (%s); it has %s", e.Where, e.Ref, strings.Join(e.Missing, ", "), e.Has)
	}
	return fmt.Sprintf("%s: %s has no %s image; it has %s, so only those are exported", e.Where, e.Ref, strings.Join(e.Missing, ", "), e.Has)
}

// WithStrictPlatforms makes a reference that lacks some of the requested
// platforms an error (default: a warning, see WithPlatformWarnings).
func WithStrictPlatforms(strict bool) Option { return func(o *options) { o.strictPlatforms = strict } }

// WithPlatformWarnings receives, for each reference that lacks some of the
// requested platforms, what it lacks; those platforms are left out.
func WithPlatformWarnings(fn func(*MissingPlatformsError)) Option {
	return func(o *options) { o.platformWarn = fn }
}

// selectPlatforms keeps, per request, the targets for the platforms its
// reference has: each image is exported for the requested platforms it
// has. None of them is an error naming what it has.
func selectPlatforms(groups [][]Target, o *options) ([]Target, error) {
	var ts []Target
	var errs []error
	for _, g := range groups {
		var kept []Target
		var missing []string
		has := ""
		for _, t := range g {
			if t.has != "" {
				missing, has = append(missing, t.Platform.String()), t.has
				continue
			}
			kept = append(kept, t)
		}
		ts = append(ts, kept...)
		if len(missing) == 0 {
			continue
		}
		e := &MissingPlatformsError{Where: g[0].Where(), Ref: g[0].Request.Ref, Missing: missing, Has: has, None: len(kept) == 0}
		switch {
		case e.None || o.strictPlatforms:
			errs = append(errs, e)
		case o.platformWarn != nil:
			o.platformWarn(e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ts, nil
}
