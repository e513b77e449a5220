package source

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// Resolve checks the requests (names, versions, keys; no network), then
// fetches every reference's descriptor from its registry, up to WithJobs
// at a time. An index yields
// the image for each requested platform; a single image is accepted for
// a platform its config satisfies. It returns only when every reference is
// resolved, reporting all failures together, each naming where the
// request was written; registry failures are *PullError.
//
// The Images read layers lazily through ctx, so ctx should live as long
// as they are used.
func Resolve(ctx context.Context, reqs []Request, platforms []v1.Platform, opts ...Option) ([]Target, error) {
	return NewClient(opts...).Resolve(ctx, reqs, platforms)
}

// Resolve is the package's Resolve through c: c's options apply, followed
// by opts, which may change how references are planned (WithKeyTemplate,
// WithFloatingVersions, WithStrictPlatforms, WithPlatformWarnings) but not
// how registries are reached: that is c's.
func (c *Client) Resolve(ctx context.Context, reqs []Request, platforms []v1.Platform, opts ...Option) ([]Target, error) {
	o := c.o.with(opts)
	groups, err := plan(reqs, platforms, o)
	if err != nil {
		return nil, err
	}
	puller, err := remote.NewPuller(c.remoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("setting up registry client: %w", err)
	}
	// Every reference is tried, so that all failures are reported at once.
	errs := make([]error, len(groups))
	var g errgroup.Group
	g.SetLimit(o.jobs)
	for i, grp := range groups {
		g.Go(func() error {
			errs[i] = fill(ctx, puller, grp)
			return nil
		})
	}
	_ = g.Wait() // failures are in errs
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolving images: %w", err)
	}
	ts, err := selectPlatforms(groups, o)
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	return ts, nil
}

// fill resolves the targets of one request (one per platform) in place.
func fill(ctx context.Context, p *remote.Puller, g []Target) error {
	t := g[0]
	desc, err := p.Get(ctx, t.Ref)
	if err != nil {
		return fmt.Errorf("%s: %w", t.Where(), pullError(t, err))
	}
	switch {
	case desc.MediaType.IsIndex():
		err = fillFromIndex(desc, g)
	case desc.MediaType.IsImage():
		err = fillFromImage(desc, g)
	default:
		err = fmt.Errorf("%s: %s has media type %s, which is neither an image nor an index", t.Where(), t.Request.Ref, desc.MediaType)
	}
	return err
}

func fillFromIndex(desc *remote.Descriptor, g []Target) error {
	idx, err := desc.ImageIndex()
	if err != nil {
		return fmt.Errorf("%s: %w", g[0].Where(), pullError(g[0], err))
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("%s: %w", g[0].Where(), pullError(g[0], err))
	}
	var errs []error
	for i := range g {
		t := &g[i]
		d, err := pickManifest(im.Manifests, t.Platform)
		if errors.Is(err, errNoPlatform) {
			t.has = listPlatforms(im.Manifests)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %w", t.Where(), t.Request.Ref, err))
			continue
		}
		if t.Image, err = idx.Image(d.Digest); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Where(), pullError(*t, err)))
			continue
		}
		t.Digest, t.IndexDigest = d.Digest, &desc.Digest
	}
	return errors.Join(errs...)
}

func fillFromImage(desc *remote.Descriptor, g []Target) error {
	img, err := desc.Image()
	if err == nil {
		err = checkImagePlatform(img, g)
	}
	if err != nil {
		var pe platformError
		if !errors.As(err, &pe) {
			err = pullError(g[0], err)
		}
		return fmt.Errorf("%s: %w", g[0].Where(), err)
	}
	for i := range g {
		if g[i].has == "" {
			g[i].Image, g[i].Digest = img, desc.Digest
		}
	}
	return nil
}

// platformError says a single-platform image does not serve a request.
type platformError struct{ msg string }

func (e platformError) Error() string { return e.msg }

// checkImagePlatform reads img's config and marks the requested platforms
// it does not serve.
func checkImagePlatform(img v1.Image, g []Target) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	have := cf.Platform()
	for i, t := range g {
		switch {
		case have == nil && len(g) == 1:
			// Some builders leave the config's platform empty; the user
			// named this image for the one platform requested.
		case have == nil:
			return platformError{fmt.Sprintf("%s is a single image whose config names no platform, so it cannot serve %d platforms; request only one platform for it", t.Request.Ref, len(g))}
		case !matches(have, t.Platform):
			g[i].has = "only " + have.String() + " (a single image)"
		}
	}
	return nil
}
