package export

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/internal/writeback"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/release"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
	"github.com/airlockhq/airlock/verify"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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
	Reused    int // format 2: members copied from an earlier image's staged tgz instead of compressed
	Replayed  int // format 2: layers walked from an earlier image's read of them, not decompressed again (rootfs.LayerMemo)
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
	if _, err := source.ParseLintPolicy(string(o.lint)); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if !slices.Contains(Formats, o.format) {
		return nil, fmt.Errorf("export: unknown bundle format %d: known formats are %s", o.format, FormatNames())
	}
	emit := serialize(o.events)
	if o.format == manifest.FormatV2 && !o.noReuse {
		o.source = newMemberSource(gzipLevel(o.compress))
	}
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
	decideStreaming(targets, o)
	staged := make([]staged, len(targets))
	res := &Result{}
	if o.stream {
		// The bundle is written while the images convert.
		res.Bundle, err = stageAndStream(ctx, cache, targets, staged, out, priv, evidence, o, emit)
	} else {
		if err = stageAll(ctx, cache, targets, staged, nil, o, emit); err != nil {
			return nil, err
		}
		if err := refuseLinted(targets, staged, o); err != nil {
			return nil, err
		}
		res.Bundle, err = writeBundle(ctx, out, priv, targets, staged, allStaged, evidence, o, emit)
	}
	gone := map[string]bool{}
	for {
		file := corruptCached(err, targets, staged, o)
		if file == "" || gone[file] {
			break
		}
		// The bundle writer found a staged file from the cache that no
		// longer matches its record: evict its entry, and convert again
		// every image whose tgz uses it (in format 2 other entries may
		// borrow members from it). A fresh conversion never uses it, so
		// each file is evicted once.
		gone[file] = true
		if err := cache.Remove(stageKeyOf(file)); err != nil {
			return nil, err
		}
		if o.source != nil {
			o.source.forget(file)
		}
		var users []int
		for i := range staged {
			if staged[i].uses(file) {
				users = append(users, i)
			}
		}
		for _, i := range users {
			t := targets[i]
			emit(evicted(t, file, err))
			if err := cache.Remove(stageKey(t, o)); err != nil {
				return nil, err
			}
			if o.source != nil {
				o.source.forget(staged[i].entry.Path)
			}
		}
		for _, i := range users {
			t := targets[i]
			var serr error
			if staged[i], serr = stageAgain(ctx, cache, t, o, emit); serr != nil {
				return nil, fmt.Errorf("converting %s (%s): %w", t.Request.Ref, t.Platform, serr)
			}
		}
		res.Bundle, err = writeBundle(ctx, out, priv, targets, staged, allStaged, evidence, o, emit)
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
	if o.source != nil {
		res.Reused = int(o.source.reused.Load())
	}
	if o.memo != nil {
		res.Replayed = int(o.memo.Replayed.Load())
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// allStaged is the ready of writeBundle when staging is over.
func allStaged(context.Context, int) error { return nil }

// writeBundle writes the signed bundle of targets, staged as staged. In
// format 2 with a head slot (streams), it writes each image's members once
// ready(ctx, i) says staged[i] is set, so the bundle grows while later
// images convert; otherwise every image must be staged already.
func writeBundle(ctx context.Context, out string, priv ed25519.PrivateKey, targets []source.Target, staged []staged, ready func(context.Context, int) error,
	evidence []*provenance.Evidence, o *options, emit func(Event)) (*bundle.Result, error) {
	image := func(i int) *manifest.Image {
		img := staged[i].image(targets[i])
		img.Signature = signatureRecord(evidence[i], o.carry)
		img.Compression = o.compress
		img.Lint = manifestLint(targets[i], staged[i].lint, o)
		return img
	}
	var extra []bundle.Payload
	if o.carry {
		extra = append(extra, carried(evidence)...)
	}
	for _, b := range o.binaries {
		extra = append(extra, binaryPayload(b))
	}
	var seq *freshness.Reservation
	var fresh *manifest.Freshness
	if o.seqKey != "" {
		channel := cmp.Or(o.channel, keys.ID(priv.Public().(ed25519.PublicKey)))
		var err error
		if o.fixedSeq > 0 {
			seq, err = freshness.Fixed(channel, o.fixedSeq, o.previous)
		} else {
			seq, err = freshness.Reserve(o.seqKey, channel)
		}
		if err != nil {
			return nil, err
		}
		fresh = seq.Freshness(o.created, o.validFor)
	}
	bopts := []bundle.Option{
		bundle.WithPartSize(o.partSize), bundle.WithParity(o.parity), bundle.WithCreated(o.created), bundle.WithTool(o.tool),
		bundle.WithBase(o.base), bundle.WithFreshness(fresh),
		bundle.WithProgress(func(path string, n int64) { emit(Event{Kind: Written, Key: path, Bytes: n}) })}
	var res *bundle.Result
	var err error
	if o.stream {
		res, err = streamBundle(ctx, out, priv, targets, staged, ready, image, extra, bopts, o, emit)
	} else {
		res, err = headFirst(ctx, out, priv, targets, staged, image, extra, bopts, o, emit)
	}
	if err == nil && seq != nil {
		// The bundle is complete; its digest is the next one's previous.
		// Failing to note it leaves a sound bundle, and the next one
		// naming an older previous: worth a warning, not a lost bundle.
		if cerr := seq.Complete(res.Digest); cerr != nil {
			emit(Event{Kind: Warned, Message: fmt.Sprintf("%v; the bundle is complete, but the next one on channel %s will not name it as its previous", cerr, seq.Channel)})
		}
	}
	return res, err
}

// headFirst writes the bundle with its signed head first (docs/format.md
// section 2): every image is staged.
func headFirst(ctx context.Context, out string, priv ed25519.PrivateKey, targets []source.Target, staged []staged, image func(i int) *manifest.Image,
	extra []bundle.Payload, bopts []bundle.Option, o *options, emit func(Event)) (*bundle.Result, error) {
	var payloads []bundle.Payload
	if o.format == manifest.FormatV2 {
		images, p, have, err := formatV2(targets, staged, image, o.held)
		if err != nil {
			return nil, err
		}
		payloads = p
		bopts = append(bopts, bundle.WithImages(images), bundle.WithHave(have))
	} else {
		for i, s := range staged {
			payloads = append(payloads, s.payload(targets[i], image(i)))
		}
	}
	payloads = append(payloads, extra...)
	var total int64
	for _, p := range payloads {
		total += p.Size // 0 for recipes and TGZSUMS, hashed by the writer; a few bytes each
	}
	emit(Event{Kind: Writing, Total: total})
	return bundle.Write(ctx, out, priv, payloads, bopts...)
}

// binaryPayload carries b; the writer checks its bytes against the size
// and sha256 found when it was chosen, as it streams them.
func binaryPayload(b release.Binary) bundle.Payload {
	return bundle.Payload{Path: b.Path(), Size: b.Size, SHA256: b.SHA256, Binary: &b.Binary,
		Open: func() (io.ReadCloser, error) { return os.Open(b.File) }}
}

// corruptCached returns the staged data file from the staging cache (not
// written by this run) that failed the bundle writer's check in err, or
// "". In format 2 that is the file holding the failing member where its
// supplier (the first image in manifest order using it) found it: the
// supplier's own, or one it borrowed from.
func corruptCached(err error, targets []source.Target, staged []staged, o *options) string {
	var ve *verify.Error
	var pe *fs.PathError
	file := ""
	switch {
	case errors.As(err, &ve) && o.format == manifest.FormatV2:
		sup := suppliers(targets, staged)
		if s, ok := sup[ve.Member]; ok {
			file = staged[s.target].memberFile(s.member)
		}
		for i, t := range targets {
			if ve.Entry != manifest.PackPath(t.Key) {
				continue
			}
			if ve.Member == "" {
				file = staged[i].entry.Path // a pack checked whole: this run staged it
			}
			// A whole pack holds again members an earlier pack holds:
			// the copy that failed is where this image has it.
			for _, m := range staged[i].members {
				if m.Name == ve.Member {
					file = staged[i].memberFile(m)
					break
				}
			}
		}
	case errors.As(err, &ve):
		for i, t := range targets {
			if ve.Entry == PayloadPrefix+t.Key {
				file = staged[i].entry.Path
			}
		}
	case errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist):
		// A staged file gone since it was looked up (removed by hand, or
		// by a prune told to ignore running exports): as good as damaged.
		for _, s := range staged {
			if s.uses(pe.Path) {
				file = pe.Path
			}
		}
	}
	for _, s := range staged {
		if s.entry.Path == file && !s.cached {
			return "" // converted by this run: converting again would not help
		}
	}
	return file
}

// uses reports whether s's tgz uses bytes of the staged data file at path.
func (s staged) uses(path string) bool {
	return s.entry.Path == path || slices.ContainsFunc(s.members, func(c cachedMember) bool { return s.memberFile(c) == path })
}

// stageKeyOf is the key of the staging entry whose data file is at path.
func stageKeyOf(path string) string {
	key, _, _ := strings.Cut(filepath.Base(path), "-")
	return key
}

func stageKey(t source.Target, o *options) string {
	return stage.Key(t.Digest.String(), t.Platform.String(), rootfs.OutputSettings(o.rootfs...))
}

// staged is one target's tgz in the staging cache.
type staged struct {
	entry   stage.Entry
	meta    concourse.Metadata
	lint    *manifest.Lint
	cached  bool
	members []cachedMember // format 2: the tgz's gzip members, in order
	// crcs are the CRC-32C of members' bytes as this run compressed them
	// (see bundle.Payload.MemberCRCs); nil for a tgz found in the cache.
	crcs    []uint32
	tarSize int64  // format 2: the uncompressed tar's size
	size    int64  // the tgz's size: entry.Size, unless members are borrowed
	sha256  string // the tgz's sha256: entry.SHA256, unless members are borrowed
}

// image is the manifest's record of t, staged as s, without the
// signature, compression and lint that writeBundle adds.
func (s staged) image(t source.Target) *manifest.Image {
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
	return img
}

// payload is the format 1 entry of t, staged as s, recorded as img.
func (s staged) payload(t source.Target, img *manifest.Image) bundle.Payload {
	path := s.entry.Path
	return bundle.Payload{
		Path:   PayloadPrefix + t.Key,
		Size:   s.entry.Size,
		SHA256: s.entry.SHA256,
		Image:  img,
		Open:   func() (io.ReadCloser, error) { return openOnce(path) },
	}
}

// openOnce opens a staged file the bundle copies once: on Close, its
// pages leave the page cache (writeback.Forget).
func openOnce(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return readOnce{f}, nil
}

type readOnce struct{ *os.File }

func (r readOnce) Close() error {
	writeback.Forget(r.File, 0, 0) // 0: to the end
	return r.File.Close()
}

// stageAll converts up to o.jobs targets at a time into out, taking those
// in the staging cache from there, and calls onStaged(i) (if not nil) once
// out[i] is set; the first failure cancels the rest.
func stageAll(ctx context.Context, cache *stage.Cache, targets []source.Target, out []staged, onStaged func(i int), o *options, emit func(Event)) error {
	if onStaged == nil {
		onStaged = func(int) {}
	}
	var todo []int
	var imgs, cachedImgs []v1.Image
	for i, t := range targets {
		s, ok, err := lookup(cache, t, o, emit)
		if err != nil {
			return err
		}
		if ok {
			out[i] = s
			onStaged(i)
			cachedImgs = append(cachedImgs, t.Image)
			emit(Event{Kind: Cached, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(), Size: s.size})
			emitLint(t, s.lint, o, emit)
			continue
		}
		todo = append(todo, i)
		imgs = append(imgs, t.Image)
	}
	if len(todo) == 0 {
		return nil
	}
	var pilots *pilots
	if o.source != nil {
		shared, err := sharedLayers(imgs)
		if err != nil {
			return err
		}
		o.memo = rootfs.NewLayerMemo(shared)
		// A cached image's members are in o.source: the runs of its
		// layers are worth hashing in the images converted. Its layers
		// are only a hint, never a reason to fail.
		for _, img := range cachedImgs {
			if img == nil {
				continue
			}
			if ds, err := layerDigests(img); err == nil {
				o.memo.AddStaged(ds)
			}
		}
		if pilots, err = newPilots(imgs, shared); err != nil {
			return err
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	store, err := newLayerStore(ctx, cache.Dir(), fetchJobs, imgs)
	if err != nil {
		return err
	}
	defer store.close()
	g.SetLimit(o.jobs)
	for n, i := range todo {
		t := targets[i]
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := pilots.wait(ctx, n); err != nil {
				return err
			}
			defer pilots.done(n)
			s, err := convertOne(ctx, cache, store, t, o, emit)
			if err != nil {
				return fmt.Errorf("converting %s (%s): %w", t.Request.Ref, t.Platform, err)
			}
			out[i] = s
			onStaged(i)
			return nil
		})
	}
	return g.Wait()
}

// stageAgain converts t once more, after its cached tgz was evicted.
func stageAgain(ctx context.Context, cache *stage.Cache, t source.Target, o *options, emit func(Event)) (staged, error) {
	store, err := newLayerStore(ctx, cache.Dir(), fetchJobs, nil)
	if err != nil {
		return staged{}, err
	}
	defer store.close()
	return convertOne(ctx, cache, store, t, o, emit)
}

// lookup finds t's tgz in the staging cache. An entry whose tgz does not
// start with a readable metadata.json is damaged: it is evicted (an Evicted
// event says so) and reported as missing, so that t is converted again. An
// entry from before the lint is converted again without a word.
func lookup(cache *stage.Cache, t source.Target, o *options, emit func(Event)) (staged, bool, error) {
	e, ok, err := cache.Lookup(stageKey(t, o))
	if err != nil || !ok {
		return staged{}, false, err
	}
	s, err := stagedFrom(e, true, o.format)
	if errors.Is(err, errNoLint) {
		return staged{}, false, nil
	}
	if err != nil {
		emit(evicted(t, e.Path, err))
		return staged{}, false, cache.Remove(stageKey(t, o))
	}
	if o.source != nil {
		o.source.add(s)
	}
	return s, true, nil
}

// evicted is the event saying that t's cached tgz at path was damaged.
func evicted(t source.Target, path string, why error) Event {
	return Event{Kind: Evicted, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(),
		Message: fmt.Sprintf("staging cache file %s for %s was damaged (%v); removed it, converting again", path, t.Key, why)}
}

// convertOne converts t into the staging cache.
func convertOne(ctx context.Context, cache *stage.Cache, store *layerStore, t source.Target, o *options, emit func(Event)) (staged, error) {
	emit(Event{Kind: Started, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String()})
	var crcs []uint32 // format 2: each member's CRC-32C, as compressed
	e, err := cache.PutWithRefs(ctx, stageKey(t, o), func(w io.Writer) (any, []string, error) {
		img, release, err := store.image(t.Image)
		if err != nil {
			return nil, nil, err
		}
		defer release()
		warn := func(w rootfs.Warning) {
			emit(Event{Kind: Warned, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(),
				Message: fmt.Sprintf("%s (%s): %s", t.Key, t.Request.Ref, w)})
		}
		var lint rootfs.Lint
		var members []cachedMember
		var tarSize int64
		var sink *memberSink
		opts := append([]rootfs.Option{
			rootfs.WithProgress(func(n int64) { emit(Event{Kind: Progress, Key: t.Key, Bytes: n}) }),
			rootfs.WithWarning(warn),
			rootfs.WithLint(func(l rootfs.Lint) { lint = l }),
		}, o.rootfs...)
		if o.format == manifest.FormatV2 {
			if mayBorrow(t, o) {
				// Members another image staged are kept as references.
				sink = newMemberSink(w, o.source.locate)
				opts = append(opts, rootfs.WithMemberOutput(sink.member), rootfs.WithMembers(func(rootfs.Member) {}))
			} else {
				// After o.rootfs, whose WithMembers only keys the cache.
				opts = append(opts, rootfs.WithMembers(func(m rootfs.Member) {
					c := cachedMember{Name: hex.EncodeToString(m.SHA256[:]), Offset: m.Offset, Size: m.Size}
					if m.RawSHA256 != ([32]byte{}) {
						c.Raw = hex.EncodeToString(m.RawSHA256[:])
					}
					members = append(members, c)
					crcs = append(crcs, m.CRC32C)
					tarSize += m.TarSize
				}))
			}
			if o.source != nil {
				opts = append(opts, rootfs.WithMemberSource(o.source))
			}
			if o.memo != nil {
				opts = append(opts, rootfs.WithLayerMemo(o.memo))
			}
		}
		md, err := rootfs.Write(ctx, w, img, opts...)
		meta := cacheMeta{Metadata: md, Lint: lintRecord(lint), Members: members, TarSize: tarSize}
		if sink != nil {
			crcs = sink.crcs
			return sink.meta(meta), sink.refs, err
		}
		return meta, nil, err
	})
	if err != nil {
		return staged{}, err
	}
	s, err := stagedFrom(e, false, o.format)
	if err != nil {
		return staged{}, err
	}
	if len(crcs) == len(s.members) {
		s.crcs = crcs
	}
	emit(Event{Kind: Converted, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(), Size: s.size})
	emitLint(t, s.lint, o, emit)
	if o.source != nil {
		o.source.add(s)
	}
	return s, nil
}

// stagedFrom describes e with the metadata.json at the head of its own
// tgz, not the copy in its staging record (kept for older airlock versions
// sharing the cache): the record is not covered by the tgz's sha256, the
// tgz is, and the bundle writer checks that sum as it streams the tgz, so
// a signed manifest only ever keeps metadata read from the bytes it lists.
//
// In format 2 the record lists the tgz's members; a list that does not
// tile the tgz exactly makes the entry damaged.
func stagedFrom(e stage.Entry, cached bool, format int) (staged, error) {
	m, err := parseCacheMeta(e.Meta)
	if err != nil {
		return staged{}, fmt.Errorf("staging cache entry %s: %w", e.Path, err)
	}
	s := staged{entry: e, lint: m.Lint, cached: cached, members: m.Members, tarSize: m.TarSize, size: e.Size, sha256: e.SHA256}
	var r io.ReadCloser
	if format == manifest.FormatV2 {
		if s.size, err = checkStagedMembers(e, m); err != nil {
			return staged{}, fmt.Errorf("staging cache entry %s: %w", e.Path, err)
		}
		if m.TGZSHA256 != "" {
			s.sha256 = m.TGZSHA256
		}
		r = s.tgz()
	} else if r, err = os.Open(e.Path); err != nil {
		return staged{}, fmt.Errorf("staging cache entry %s: %w", e.Path, err)
	}
	defer r.Close()
	if s.meta, err = rootfs.ReadMetadata(r); err != nil {
		return staged{}, fmt.Errorf("staging cache entry %s: %w", e.Path, err)
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
