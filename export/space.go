package export

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/dustin/go-humanize"
	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
)

// SpaceError says a folder has too little free space for an export.
type SpaceError struct {
	Folder string
	Need   uint64 // estimated bytes the export writes there
	Free   uint64 // bytes free for unprivileged users
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("not enough free space in %s: this export needs about %s there, %s are free",
		e.Folder, humanize.Bytes(e.Need), humanize.Bytes(e.Free))
}

// estimate is what an export is expected to write, before converting.
// A rootfs tgz is about as large as the image's compressed layers.
type estimate struct {
	bundle int64 // the bundle
	cache  int64 // new staging-cache entries, plus the layers of up to jobs images being converted
}

// estimateSizes adds up the sizes of cached tgz files and, for the others,
// of the images' compressed layers (from their manifests).
func estimateSizes(ctx context.Context, cache *stage.Cache, targets []source.Target, o *options) (estimate, error) {
	sizes := make([]int64, len(targets))
	cached := make([]bool, len(targets))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchJobs)
	for i, t := range targets {
		g.Go(func() error {
			if e, ok, err := cache.Lookup(stageKey(t, o)); err == nil && ok {
				sizes[i], cached[i] = e.Size, true
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			m, err := t.Image.Manifest()
			if err != nil {
				return fmt.Errorf("reading the manifest of %s (%s): %w", t.Request.Ref, t.Platform, err)
			}
			for _, l := range m.Layers {
				sizes[i] += l.Size
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return estimate{}, err
	}
	var est estimate
	var fresh []int64
	for i, n := range sizes {
		est.bundle += n
		if !cached[i] {
			est.cache += n
			fresh = append(fresh, n)
		}
	}
	slices.Sort(fresh)
	slices.Reverse(fresh)
	for _, n := range fresh[:min(o.jobs, len(fresh))] {
		est.cache += n // layers downloaded beside the cache while converting
	}
	return est, nil
}

// checkSpace fails early when the bundle would need too many parts or the
// output or cache folder has less free space than the estimate.
func checkSpace(ctx context.Context, cache *stage.Cache, targets []source.Target, out string, o *options) error {
	est, err := estimateSizes(ctx, cache, targets, o)
	if err != nil {
		return err
	}
	if err := bundle.CheckParts(est.bundle, o.partSize, o.parity, true); err != nil {
		return err
	}
	return checkFree(filepath.Dir(bundle.BaseName(out)), cache.Dir(), est, diskFree)
}

// diskFree reports the bytes free for unprivileged users in dir's file
// system, and an id of that file system; ok is false where unknown.
var diskFree = freeSpace

func checkFree(outDir, cacheDir string, est estimate, free func(string) (uint64, uint64, bool)) error {
	outFree, outFS, ok := free(outDir)
	if !ok {
		return nil
	}
	cacheFree, cacheFS, ok := free(cacheDir)
	if !ok {
		return nil
	}
	if outFS == cacheFS {
		if need := uint64(est.bundle + est.cache); outFree < need {
			return &SpaceError{Folder: outDir, Need: need, Free: outFree}
		}
		return nil
	}
	if need := uint64(est.bundle); outFree < need {
		return &SpaceError{Folder: outDir, Need: need, Free: outFree}
	}
	if need := uint64(est.cache); cacheFree < need {
		return &SpaceError{Folder: cacheDir, Need: need, Free: cacheFree}
	}
	return nil
}
