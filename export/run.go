package export

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
	"github.com/airlockhq/airlock/verify"
)

// PayloadPrefix is the folder of image payloads inside a bundle; the rest
// of an entry's path is its S3 key.
const PayloadPrefix = manifest.ImagesFolder

// fetchJobs is how many layers of an image are downloaded at a time.
const fetchJobs = 4

// Result describes a finished export.
type Result struct {
	Bundle    *bundle.Result
	Converted int // images converted in this run
	Cached    int // images taken from the staging cache
	Elapsed   time.Duration
}

// Run converts every target into the staging cache (reusing what is there)
// and writes the signed bundle out. Nothing looking like a bundle exists
// at out unless Run succeeds. Before converting, it checks that out's
// folder is writable, that the bundle fits in bundle.MaxParts parts and
// that the output and cache folders have room for an estimate of what the
// export writes (a *SpaceError otherwise).
func Run(ctx context.Context, targets []source.Target, out string, priv ed25519.PrivateKey, opts ...Option) (*Result, error) {
	start := time.Now()
	o := makeOptions(opts)
	if _, err := manifest.ParseCompression(string(o.compress)); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	emit := serialize(o.events)
	if err := bundle.CheckOutput(out); err != nil {
		return nil, err
	}
	cache, err := stage.Open(o.cacheDir)
	if err != nil {
		return nil, err
	}
	if err := checkSpace(ctx, cache, targets, out, o); err != nil {
		return nil, err
	}
	evidence, err := checkSignatures(ctx, targets, o, emit)
	if err != nil {
		return nil, err
	}
	staged, err := stageAll(ctx, cache, targets, o, emit)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for {
		res.Bundle, err = writeBundle(ctx, out, priv, targets, staged, evidence, o, emit)
		i := corruptCached(err, targets, staged)
		if i < 0 {
			break
		}
		// The bundle writer found a cached tgz that no longer matches its
		// record: evict it and convert again. A fresh conversion is not
		// cached, so each entry is retried once.
		t := targets[i]
		emit(Event{Kind: Evicted, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(),
			Message: fmt.Sprintf("staging cache file %s for %s was damaged (%v); removed it, converting again", staged[i].entry.Path, t.Key, err)})
		if err := cache.Remove(stageKey(t, o)); err != nil {
			return nil, err
		}
		if staged[i], err = stageOne(ctx, cache, t, o, emit); err != nil {
			return nil, fmt.Errorf("converting %s (%s): %w", t.Request.Ref, t.Platform, err)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, s := range staged {
		if s.cached {
			res.Cached++
		} else {
			res.Converted++
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func writeBundle(ctx context.Context, out string, priv ed25519.PrivateKey, targets []source.Target, staged []staged,
	evidence []*provenance.Evidence, o *options, emit func(Event)) (*bundle.Result, error) {
	payloads := make([]bundle.Payload, len(targets))
	var total int64
	for i, s := range staged {
		payloads[i] = s.payload(targets[i])
		payloads[i].Image.Signature = signatureRecord(evidence[i], o.carry)
		payloads[i].Image.Compression = o.compress
		total += s.entry.Size
	}
	if o.carry {
		for _, p := range carried(evidence) {
			payloads = append(payloads, p)
			total += p.Size
		}
	}
	emit(Event{Kind: Writing, Total: total})
	return bundle.Write(ctx, out, priv, payloads,
		bundle.WithPartSize(o.partSize), bundle.WithParity(o.parity), bundle.WithCreated(o.created), bundle.WithTool(o.tool),
		bundle.WithProgress(func(path string, n int64) { emit(Event{Kind: Written, Key: path, Bytes: n}) }))
}

// corruptCached returns the index of the cached target whose tgz failed
// the bundle writer's check in err, or -1.
func corruptCached(err error, targets []source.Target, staged []staged) int {
	var ve *verify.Error
	if !errors.As(err, &ve) {
		return -1
	}
	for i, t := range targets {
		if staged[i].cached && ve.Entry == PayloadPrefix+t.Key {
			return i
		}
	}
	return -1
}

func stageKey(t source.Target, o *options) string {
	return stage.Key(t.Digest.String(), t.Platform.String(), rootfs.OutputSettings(o.rootfs...))
}

// staged is one target's tgz in the staging cache.
type staged struct {
	entry  stage.Entry
	meta   rootfs.Metadata
	cached bool
}

func (s staged) payload(t source.Target) bundle.Payload {
	img := &manifest.Image{
		Source:       t.Request.Ref,
		Digest:       t.Digest.String(),
		Platform:     t.Platform.String(),
		Name:         t.Name,
		Version:      t.Version,
		Key:          t.Key,
		Regexp:       t.Regexp,
		RootfsFormat: rootfs.FormatVersion,
		Metadata:     s.meta,
	}
	if t.IndexDigest != nil {
		img.IndexDigest = t.IndexDigest.String()
	}
	path := s.entry.Path
	return bundle.Payload{
		Path:   PayloadPrefix + t.Key,
		Size:   s.entry.Size,
		SHA256: s.entry.SHA256,
		Image:  img,
		Open:   func() (io.ReadCloser, error) { return os.Open(path) },
	}
}

// stageAll converts up to o.jobs targets at a time; the first failure
// cancels the rest.
func stageAll(ctx context.Context, cache *stage.Cache, targets []source.Target, o *options, emit func(Event)) ([]staged, error) {
	out := make([]staged, len(targets))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for i, t := range targets {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			s, err := stageOne(ctx, cache, t, o, emit)
			if err != nil {
				return fmt.Errorf("converting %s (%s): %w", t.Request.Ref, t.Platform, err)
			}
			out[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func stageOne(ctx context.Context, cache *stage.Cache, t source.Target, o *options, emit func(Event)) (staged, error) {
	key := stageKey(t, o)
	ev := Event{Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String()}
	if e, ok, err := cache.Lookup(key); err != nil {
		return staged{}, err
	} else if ok {
		s, err := stagedFrom(e, true)
		ev.Kind, ev.Size = Cached, e.Size
		emit(ev)
		return s, err
	}
	ev.Kind = Started
	emit(ev)
	e, err := cache.Put(ctx, key, func(w io.Writer) (any, error) {
		warn := func(w rootfs.Warning) {
			emit(Event{Kind: Warned, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(),
				Message: fmt.Sprintf("%s (%s): %s", t.Key, t.Request.Ref, w)})
		}
		return convert(ctx, w, cache.Dir(), t, o, func(n int64) { emit(Event{Kind: Progress, Key: t.Key, Bytes: n}) }, warn)
	})
	if err != nil {
		return staged{}, err
	}
	ev.Kind, ev.Size = Converted, e.Size
	emit(ev)
	return stagedFrom(e, false)
}

// convert fetches t's layers into a temporary folder beside the cache and
// writes its rootfs tgz to w.
func convert(ctx context.Context, w io.Writer, cacheDir string, t source.Target, o *options, progress func(int64), warn func(rootfs.Warning)) (rootfs.Metadata, error) {
	dir, err := os.MkdirTemp(cacheDir, ".layers-")
	if err != nil {
		return rootfs.Metadata{}, err
	}
	defer os.RemoveAll(dir)
	img, wait, err := prefetch(ctx, t.Image, dir, fetchJobs)
	if err != nil {
		return rootfs.Metadata{}, err
	}
	defer wait() // before the deferred RemoveAll of dir
	opts := append([]rootfs.Option{rootfs.WithProgress(progress), rootfs.WithWarning(warn)}, o.rootfs...)
	return rootfs.Write(ctx, w, img, opts...)
}

func stagedFrom(e stage.Entry, cached bool) (staged, error) {
	s := staged{entry: e, cached: cached}
	if err := json.Unmarshal(e.Meta, &s.meta); err != nil {
		return staged{}, fmt.Errorf("staging cache entry %s: bad metadata: %w", e.Path, err)
	}
	return s, nil
}

// serialize makes fn safe to call from several goroutines.
func serialize(fn func(Event)) func(Event) {
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		fn(e)
	}
}
