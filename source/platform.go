package source

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/concourse"
)

// DefaultPlatform is exported when no platform is requested.
var DefaultPlatform = v1.Platform{OS: "linux", Architecture: "amd64"}

// ParsePlatforms parses platforms written as OS/ARCH[/VARIANT]; each spec
// may hold several separated by commas ("linux/amd64,linux/arm64").
// Duplicates are an error.
func ParsePlatforms(specs []string) ([]v1.Platform, error) {
	var ps []v1.Platform
	for _, spec := range specs {
		for s := range strings.SplitSeq(spec, ",") {
			p, err := v1.ParsePlatform(s)
			if err != nil {
				return nil, fmt.Errorf("invalid platform %q: %w", s, err)
			}
			ps = append(ps, *p)
		}
	}
	if err := checkPlatforms(ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// checkPlatforms requires OS and architecture and refuses duplicates.
func checkPlatforms(ps []v1.Platform) error {
	seen := map[string]bool{}
	for _, p := range ps {
		s := p.String()
		if p.OS == "" || p.Architecture == "" {
			return fmt.Errorf("invalid platform %q: want OS/ARCH[/VARIANT], e.g. linux/amd64", s)
		}
		if seen[s] {
			return fmt.Errorf("platform %s given twice", s)
		}
		seen[s] = true
	}
	return nil
}

// keyData returns the template data for name, version and platform p.
func keyData(nm, version string, p v1.Platform) concourse.KeyData {
	return concourse.KeyData{
		Name: nm, Version: version,
		OS: p.OS, Arch: p.Architecture, Variant: p.Variant,
		Platform: p.String(),
	}
}

// matches reports whether an image of platform have serves a request for
// want. arm64 without a variant means v8, as in containerd.
func matches(have *v1.Platform, want v1.Platform) bool {
	if have == nil {
		return false
	}
	return normalize(*have).Satisfies(normalize(want))
}

func normalize(p v1.Platform) v1.Platform {
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	return p
}

// errNoPlatform: an index has no image for a platform.
var errNoPlatform = errors.New("no image for the platform")

// pickManifest chooses the image manifest for want in an index. Several
// candidates are ambiguous unless one has exactly the wanted variant.
func pickManifest(ms []v1.Descriptor, want v1.Platform) (v1.Descriptor, error) {
	var found []v1.Descriptor
	for _, d := range ms {
		if d.MediaType.IsImage() && matches(d.Platform, want) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return v1.Descriptor{}, fmt.Errorf("has no %s image; it has %s: %w", want.String(), listPlatforms(ms), errNoPlatform)
	}
	for _, d := range found {
		if d.Platform.Variant == want.Variant {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("has several images for %s (%s); name the variant", want.String(), listPlatforms(found))
}

// listPlatforms names the platforms of the image manifests in ms, leaving
// out attestations ("unknown/unknown").
func listPlatforms(ms []v1.Descriptor) string {
	var names []string
	for _, d := range ms {
		if d.Platform == nil || !d.MediaType.IsImage() || d.Platform.OS == "unknown" {
			continue
		}
		names = append(names, d.Platform.String())
	}
	if len(names) == 0 {
		return "no platform images"
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}
