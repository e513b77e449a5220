package source

import v1 "github.com/google/go-containerregistry/pkg/v1"

// Plan is plan with the targets in one list, for tests of the offline checks.
func Plan(reqs []Request, platforms []v1.Platform, opts ...Option) ([]Target, error) {
	groups, err := plan(reqs, platforms, makeOptions(opts))
	if err != nil {
		return nil, err
	}
	var ts []Target
	for _, g := range groups {
		ts = append(ts, g...)
	}
	return ts, nil
}
