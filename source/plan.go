package source

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/concourse"
)

// plan checks everything that needs no network: it parses every
// reference, derives and validates names and versions, renders keys for
// each request and platform and refuses duplicate keys. It returns the
// targets grouped by request, one per platform in the given order;
// platforms default to DefaultPlatform. Digest, IndexDigest and Image stay
// empty. All problems are reported together.
func plan(reqs []Request, platforms []v1.Platform, o *options) ([][]Target, error) {
	if len(platforms) == 0 {
		platforms = []v1.Platform{DefaultPlatform}
	}
	err := checkPlatforms(platforms)
	if err != nil {
		return nil, err
	}
	kts := make([]*concourse.KeyTemplate, len(platforms))
	for i := range platforms {
		if kts[i], err = keyTemplate(o.keyTemplate, i); err != nil {
			return nil, err
		}
	}
	groups := make([][]Target, len(reqs))
	var errs []error
	for i, req := range reqs {
		g, err := planRequest(req, platforms, kts, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", req.Where(), err))
		}
		groups[i] = g
	}
	if len(errs) == 0 {
		errs = append(errs, duplicateKeys(groups)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return groups, nil
}

// keyTemplate is the template for the i-th requested platform: text when
// given, else DefaultKeyTemplate for the first platform, so its keys stay
// where a single-platform export puts them and pipelines keep matching,
// and MultiPlatformKeyTemplate for the others.
func keyTemplate(text string, i int) (*concourse.KeyTemplate, error) {
	switch {
	case text != "":
	case i > 0:
		text = concourse.MultiPlatformKeyTemplate
	default:
		text = concourse.DefaultKeyTemplate
	}
	return concourse.ParseKeyTemplate(text)
}

// planRequest returns one target per platform for req.
func planRequest(req Request, platforms []v1.Platform, kts []*concourse.KeyTemplate, o *options) ([]Target, error) {
	nm, version, err := req.NameVersion()
	if err != nil {
		return nil, err
	}
	if !o.floating && concourse.IsFloating(version) {
		return nil, &FloatingVersionError{Ref: req.Ref, Name: nm, Version: version}
	}
	ref, err := parseRef(req.Ref, o.nameOptions()...)
	if err != nil {
		return nil, err
	}
	g := make([]Target, len(platforms))
	for i, p := range platforms {
		d := keyData(nm, version, p)
		kt := kts[i]
		key, err := kt.Key(d)
		if err != nil {
			return nil, err
		}
		re, err := kt.Regexp(d)
		if err != nil {
			return nil, err
		}
		g[i] = Target{Request: req, Ref: ref, Name: nm, Version: version, Key: key, Regexp: re, Platform: p}
	}
	return g, nil
}

// duplicateKeys reports every key produced by more than one target.
func duplicateKeys(groups [][]Target) []error {
	var errs []error
	first := map[string]Target{}
	for _, g := range groups {
		for _, t := range g {
			if f, ok := first[t.Key]; ok && f.Request == t.Request {
				errs = append(errs, fmt.Errorf("%s (%s): platforms %s and %s both export to key %s; the key template must tell platforms apart, e.g. with {{.Arch}} ('%s')",
					t.Where(), t.Request.Ref, f.Platform.String(), t.Platform.String(), t.Key, concourse.MultiPlatformKeyTemplate))
				continue
			}
			if f, ok := first[t.Key]; ok {
				errs = append(errs, fmt.Errorf("%s (%s) and %s (%s) both export to key %s; use \"as NAME:VERSION\" to tell them apart",
					f.Where(), f.Request.Ref, t.Where(), t.Request.Ref, t.Key))
				continue
			}
			first[t.Key] = t
		}
	}
	return errs
}

// FloatingVersionError refuses a version whose first component is not a
// number: the S3 resource sorts it above every numeric version of the
// series, so every pipeline following the series would switch to it.
type FloatingVersionError struct {
	Ref, Name, Version string
}

func (e *FloatingVersionError) Error() string {
	return fmt.Sprintf("%s: version %q does not start with a number, so the Concourse S3 resource sorts it above every numeric version "+
		"and pipelines following %s/ would switch to it", e.Ref, e.Version, e.Name)
}
