package export

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
	"github.com/airlockhq/airlock/verify"
)

// minStreamPart is the smallest part size with which a format 2 export
// writes its bundle while converting: the head slot (a multiple of 1 MiB,
// docs/format-v2.md section 5) would fill much of a smaller part, so
// such bundles are written head first once every image is staged.
const minStreamPart = 8 << 20

// defaultStreamAbove is how many bytes of distinct compressed layers a
// format 2 export needs before it writes its bundle while converting. The
// head slot pads the head to a multiple of 1 MiB, half a MiB on average:
// worth it when writing the bundle after the last image would take a
// second or more, not for a bundle of a few tens of MB.
const defaultStreamAbove = 256 << 20

// decideStreaming sets o.stream: whether the export writes its bundle
// while the images convert, its head last into a reserved slot, and
// o.layerBytes, the compressed size of the targets' distinct layers. It
// reads only the images' manifests, never the staging cache, so the same
// inputs always give the same bundle bytes.
func decideStreaming(targets []source.Target, o *options) {
	seen := map[string]bool{}
	o.layerBytes = 0
	for _, t := range targets {
		m, err := t.Image.Manifest()
		if err != nil {
			continue // the conversion reports it
		}
		for _, l := range m.Layers {
			if !seen[l.Digest.String()] {
				seen[l.Digest.String()] = true
				o.layerBytes += l.Size
			}
		}
	}
	o.stream = o.format == manifest.FormatV2 && (o.partSize == 0 || o.partSize >= minStreamPart) && o.layerBytes >= o.streamAbove
}

// stageAndStream stages targets into staged and writes the bundle at the
// same time: the writer takes the images in manifest order, each as soon
// as it is staged (docs/format-v2.md section 5). A failure of either side
// stops the other, except a staged file that no longer matches its record
// or is gone (mayEvict), after which staging runs to its end so that Run
// can evict the file and write again.
func stageAndStream(ctx context.Context, cache *stage.Cache, targets []source.Target, staged []staged, out string, priv ed25519.PrivateKey,
	evidence []*provenance.Evidence, o *options, emit func(Event)) (*bundle.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make([]chan struct{}, len(targets))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	stagingDone := make(chan struct{})
	var stageErr error
	go func() {
		defer close(stagingDone)
		stageErr = stageAll(ctx, cache, targets, staged, func(i int) { close(ready[i]) }, o, emit)
	}()
	wait := func(ctx context.Context, i int) error {
		select {
		case <-ready[i]:
			return nil
		case <-stagingDone:
			return stageErr // nil: every target is staged, ready[i] too
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res, err := writeBundle(ctx, out, priv, targets, staged, wait, evidence, o, emit)
	if err != nil && !mayEvict(err) {
		cancel()
	}
	<-stagingDone
	if stageErr != nil && (err == nil || !errors.Is(stageErr, context.Canceled)) {
		return nil, stageErr // staging failed first; the writer stopped waiting for it
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// mayEvict reports whether err is one Run recovers from by evicting a
// staged file (see corruptCached): a byte that no longer matches, or a
// staged file gone.
func mayEvict(err error) bool {
	var ve *verify.Error
	var pe *fs.PathError
	return errors.As(err, &ve) || errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist)
}

// streamBundle writes a format 2 bundle with its head last: the pack of
// each image in manifest order once ready says it is staged (each distinct
// member in the pack of the first image using it, as headFirst picks
// them), then the recipes, TGZSUMS and extra, then the head into its slot.
func streamBundle(ctx context.Context, out string, priv ed25519.PrivateKey, targets []source.Target, staged []staged, ready func(context.Context, int) error,
	image func(i int) *manifest.Image, extra []bundle.Payload, bopts []bundle.Option, o *options, emit func(Event)) (*bundle.Result, error) {
	s, err := bundle.NewStream(out, headEstimate(len(targets), o.layerBytes), bopts...)
	if err != nil {
		return nil, err
	}
	emit(Event{Kind: Writing})
	pick := newPicker(targets, o.held)
	for _, i := range byKey(targets) {
		if err := ready(ctx, i); err != nil {
			s.Abort()
			return nil, err
		}
		if p, ok := pick.pack(staged[i], targets[i].Key); ok {
			if err := s.Add(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	if err := refuseLinted(targets, staged, o); err != nil {
		s.Abort()
		return nil, err
	}
	images, rest, err := v2Images(targets, staged, image, pick.packs, pick.have)
	if err != nil {
		s.Abort()
		return nil, err
	}
	rest = append(rest, extra...)
	slices.SortFunc(rest, func(a, b bundle.Payload) int { return strings.Compare(a.Path, b.Path) })
	for _, p := range rest {
		if err := s.Add(ctx, p); err != nil {
			return nil, err
		}
	}
	return s.Finish(ctx, priv, bundle.WithImages(images), bundle.WithHave(pick.have))
}

// headEstimate guesses the size of the head of a format 2 bundle of n
// images before any is converted, from the compressed size of their
// distinct layers: about one member per 64 KiB of it, each taking ~90
// bytes of manifest (its name and size in its pack, its position in
// member_index), and each image a few KiB. A wrong guess costs the writer
// a fix of the slot, never bytes of the bundle.
func headEstimate(n int, layerBytes int64) int64 {
	members := layerBytes/(64<<10) + 3*int64(n)
	return members*90 + int64(n)*4096
}
