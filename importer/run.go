package importer

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
	"github.com/airlockhq/airlock/verify"
)

// Result sums up an import.
type Result struct {
	Uploaded, Skipped int
	Bytes             int64  // bytes uploaded
	Record            string // folder of the bundle's record in the bucket
	// Freshness is the verdict on the bundle; the channel state names it
	// when the import succeeded (unless it is Unversioned).
	Freshness freshness.Verdict
	Elapsed   time.Duration
}

// Run loads every image of a bundle whose signature r has checked into
// the bucket, in one pass over the bundle: each entry streams straight into
// an upload while the bundle reader hashes it, and an entry that does not
// match the signed manifest aborts its upload, so no unverified object ever
// appears. A delta bundle is imported only where the bucket holds the base
// it was cut against (else a *BaseError, before any upload). Objects
// already there with the same checksum are skipped, so a re-run after a
// failure finishes the job; objects with other content are
// a *ConflictError unless overwriting was allowed. The bundle's signed
// manifest is stored last (package record).
func Run(ctx context.Context, s *bucket.Store, r *bundle.Reader, opts ...Option) (*Result, error) {
	start := time.Now()
	o := makeOptions(opts)
	if err := checkKeyLengths(r, o.prefix); err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	if err := checkBase(ctx, s, r.Manifest, o); err != nil {
		return &Result{}, err
	}
	fresh := freshness.FromManifest(r.ID, r.Raw, r.Manifest)
	verdict, err := checkFreshness(ctx, s, fresh, o)
	if err != nil {
		return &Result{Freshness: verdict}, err
	}
	plan, err := makePlan(ctx, s, r, o)
	if err != nil {
		return &Result{}, err
	}
	reports, err := series(ctx, s, r, o.prefix)
	if err != nil {
		return &Result{}, err
	}
	for i := range reports {
		o.events(Event{Kind: Series, Key: reports[i].Key, Series: &reports[i]})
	}
	var have members
	if r.Manifest.Format == manifest.FormatV2 {
		if have, err = checkHave(ctx, s, r.Manifest, o.prefix); err != nil {
			return &Result{}, err
		}
	}
	if o.dryRun {
		return &Result{Freshness: verdict}, nil
	}
	res, err := upload(ctx, s, r, plan, have, o)
	if err != nil {
		return nil, err
	}
	// Every key of the bundle, skipped ones too: an upload left by an
	// interrupted run (or one whose CreateMultipartUpload answer was lost)
	// is invisible, takes space, and may outlive an object that is in place.
	// Only now, with this import's objects in place under every key: an
	// upload still running there is another import's, and one of the same
	// content then finds the object in place (errSameContent), one of other
	// content would be refused anyway. Before uploading, it would abort
	// the uploads of an import still running, which then fails.
	var keys []string
	for _, p := range plan {
		keys = append(keys, p.key)
	}
	slices.Sort(keys)
	if _, err := s.AbortIncomplete(ctx, keys...); err != nil {
		return nil, err
	}
	if res.Record, err = record.Put(ctx, s, o.prefix, r); err != nil {
		return nil, err
	}
	o.events(Event{Kind: Recorded, Key: res.Record})
	// Last: only now is every object and the record in place (a crash
	// before this leaves the state at the older bundle, and importing
	// this one again finishes the job).
	if res.Freshness, err = freshness.Accept(ctx, s, o.prefix, fresh, verdict.Stored, o.now, o.allow...); err != nil {
		return nil, err
	}
	if res.Freshness.Status != freshness.Unversioned {
		o.events(Event{Kind: Accepted, Key: freshness.Key(o.prefix, fresh.Signer, fresh.Freshness.Channel), Freshness: &res.Freshness})
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// checkFreshness judges the bundle against the bucket's channel state
// before anything is uploaded, reporting the verdict as a Freshness event.
func checkFreshness(ctx context.Context, s *bucket.Store, b freshness.Bundle, o options) (freshness.Verdict, error) {
	var st *freshness.State
	if b.Freshness != nil {
		var err error
		if st, _, _, err = freshness.ReadStateOrReplace(ctx, s, o.prefix, b.Signer, b.Freshness.Channel, o.allow...); err != nil {
			return freshness.Verdict{}, err
		}
	}
	v, err := freshness.Check(b, st, o.now, o.allow...)
	if err != nil {
		return v, err
	}
	e := Event{Kind: Freshness, Freshness: &v}
	if v.Status == freshness.Unversioned {
		e.Reason = "the bundle carries no sequence or expiry (written before airlock had them): it cannot be checked for rollback or staleness; export it again with this airlock"
	}
	o.events(e)
	return v, nil
}

type planned struct {
	key    string
	action Action
	etag   string // of the object seen when planning, for Replace
}

// condition is the conditional write that makes the plan atomic: a new key
// is written only if still absent, a replacement only over the object the
// plan saw. Another writer in between makes the write fail, never lose.
func (p planned) condition() bucket.PutOption {
	if p.action == Replace {
		return bucket.IfUnchanged(p.etag)
	}
	return bucket.IfAbsent()
}

// makePlan decides, before any upload, what happens to each image entry,
// and refuses when objects with other checksums are in the way.
func makePlan(ctx context.Context, s *bucket.Store, r *bundle.Reader, o options) (map[string]planned, error) {
	plan := map[string]planned{}
	var conflicts []Conflict
	for _, e := range imported(r.Manifest) {
		key, ok := importKey(e, o.prefix)
		if !ok {
			continue
		}
		p := planned{key: key, action: Upload}
		obj, ok, err := s.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		p.etag = obj.ETag
		switch {
		case ok && o.force:
			p.action = Replace
		case ok && obj.SHA256 == e.SHA256 && obj.Size == e.Size:
			p.action = Skip
		case ok && o.overwrite:
			p.action = Replace
		case ok:
			conflicts = append(conflicts, Conflict{Key: key, Have: obj.SHA256, Want: e.SHA256})
		}
		plan[e.Path] = p
		o.events(Event{Kind: Planned, Key: key, Entry: e.Path, Action: p.action, Size: e.Size})
	}
	if len(conflicts) > 0 {
		return nil, &ConflictError{Bucket: s.Bucket(), Conflicts: conflicts}
	}
	return plan, nil
}

// imported lists what an import may write, each under importKey: the
// payload entries (in format 2, the members, recipes and TGZSUMS among them
// go nowhere) and, in format 2, the image objects assembled from members.
func imported(m *manifest.Manifest) []manifest.Entry {
	if m.Format != manifest.FormatV2 {
		return m.Entries
	}
	return append(slices.Clone(m.Entries), m.Images...)
}

// importKey is where an entry goes: an image to its key under prefix,
// carried signature evidence and airlock binaries into the record area,
// where no S3 resource regexp looks; other entries are not imported.
func importKey(e manifest.Entry, prefix string) (string, bool) {
	switch {
	case e.Image != nil:
		return prefix + e.Image.Key, true
	case e.Binary != nil:
		return record.BinaryKey(prefix, e.Binary), true
	case strings.HasPrefix(e.Path, manifest.SignaturePrefix):
		return prefix + record.SignatureFolder + strings.TrimPrefix(e.Path, manifest.SignaturePrefix), true
	}
	return "", false
}

// uploadsInFlight is how many objects upload at once: the next entry is
// read from the bundle while the previous one's last parts are still on
// their way, so the pipe to the server never runs dry between objects.
const uploadsInFlight = 2

// partSize keeps part buffers (parts x (concurrency+1) per upload in
// flight) well inside airlock's memory budget.
const partSize = 8 * bucket.MiB

// upload streams the bundle's entries; skipped and non-image entries are
// still read and verified by the bundle reader. The bundle is read in one
// pass: an entry's upload gets the reader until it has read the entry to
// its end, then finishes in the background while the next entry is read.
func upload(ctx context.Context, s *bucket.Store, r *bundle.Reader, plan map[string]planned, have members, o options) (*Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadsInFlight)
	res := &Result{}
	var mu sync.Mutex // guards res, failed and o.events
	emit := func(e Event) { mu.Lock(); o.events(e); mu.Unlock() }
	var failed []string // keys whose upload failed, not to another writer

	// start uploads body as p's object in the background; release is
	// called when the upload reads no more of body.
	start := func(p planned, body io.Reader, size int64, sum, path string, release func()) {
		put := append([]bucket.PutOption{bucket.WithPartSize(partSize), bucket.WithProgress(func(n int64) {
			emit(Event{Kind: Progress, Key: p.key, Bytes: n})
		})}, o.put...)
		put = append(put, p.condition())
		g.Go(func() error {
			// Put may return before the end of the body (another
			// writer's object was there already): the reader goes on
			// then too, draining the rest.
			defer release()
			if err := s.Put(gctx, p.key, body, size, sum, put...); err != nil {
				err = raced(gctx, s, p.key, size, sum, p.action != Replace, err)
				if errors.Is(err, errSameContent) {
					// Another import of the same content got there
					// first: the key holds what this one would write.
					mu.Lock()
					res.Skipped++
					mu.Unlock()
					return nil
				}
				if !errors.As(err, new(*ConflictError)) {
					mu.Lock()
					failed = append(failed, p.key)
					mu.Unlock()
				}
				return err
			}
			mu.Lock()
			res.Uploaded++
			res.Bytes += size
			mu.Unlock()
			emit(Event{Kind: Uploaded, Key: p.key, Entry: path, Size: size})
			return nil
		})
	}
	skip := func() {
		mu.Lock()
		res.Skipped++
		mu.Unlock()
	}

	ms := have
	readErr := func() error {
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if ms != nil && ms.note(e) {
				continue // read (and so verified) by the next call
			}
			p, ok := plan[e.Path]
			if !ok || p.action == Skip {
				if ok {
					skip()
				}
				continue
			}
			// The entry verifies itself (it is a verify.Reader): Put only
			// counts, so each byte is hashed once.
			body := &endSignal{r: e, end: make(chan struct{})}
			start(p, body, e.Size, e.SHA256, e.Path, body.release)
			select {
			case <-body.end: // the upload has all of the entry, or is over; read on
			case <-gctx.Done():
				return nil // g.Wait has the cause
			}
		}
	}()
	if readErr == nil && ms != nil {
		// Every member is verified; assemble each image from them.
		readErr = assembleAll(gctx, s, r, ms, plan, skip, start)
	}
	if readErr != nil {
		cancel(readErr)
	}
	err := g.Wait()
	if readErr != nil {
		err = readErr
	}
	if err != nil {
		return nil, errors.Join(err, cleanUp(ctx, s, failed))
	}
	return res, nil
}

// assembleAll uploads the image objects of a format 2 bundle, each
// assembled from its members (docs/format-v2.md section 8). As with a
// format 1 bundle's entries, one object is read at a time: the next once
// the upload before has all of its body, while its last parts are on
// their way. Reading two at once was slower, not faster: 50 images into
// a MinIO on the same two cores took ~10% longer (more parts in flight
// than the server could take).
func assembleAll(ctx context.Context, s *bucket.Store, r *bundle.Reader, ms members, plan map[string]planned, skip func(),
	start func(p planned, body io.Reader, size int64, sum, path string, release func())) error {
	for _, im := range r.Manifest.Images {
		if ctx.Err() != nil {
			return nil // the errgroup has the cause
		}
		p, ok := plan[im.Path]
		if !ok {
			continue
		}
		if p.action == Skip {
			skip()
			continue
		}
		body, err := assembly(ctx, s, r, ms, im)
		if err != nil {
			return err
		}
		sig := &endSignal{r: &blaming{ctx: ctx, r: r, ms: ms, im: im, body: body}, end: make(chan struct{})}
		start(p, sig, im.Size, im.SHA256, im.Path, sig.release)
		select {
		case <-sig.end:
		case <-ctx.Done():
			return nil // the errgroup has the cause
		}
	}
	return nil
}

// blaming turns an assembled tgz's checksum failure into one naming the
// member at fault.
type blaming struct {
	ctx  context.Context
	r    *bundle.Reader
	ms   members
	im   manifest.Entry
	body io.Reader
}

func (b *blaming) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && verify.IsFailure(err) {
		err = blameMember(b.ctx, b.r, b.ms, b.im, err)
	}
	return n, err
}

// abortGrace bounds the clean-up after a failed or interrupted import.
const abortGrace = 10 * time.Second

// cleanUp aborts what failed uploads may have left under keys: Put aborts
// its own upload, but not one whose CreateMultipartUpload answer was lost
// (as when the import is interrupted during that call), which holds no
// part. Uploads with parts in are left alone: they are another writer's
// work in progress (another import of the same image), and aborting them
// would make it fail. Keys another writer got to are left alone too.
// It runs on a fresh context, so it works after an interrupt, and returns
// a *bucket.LeftBehindError for any key it could not clean.
func cleanUp(ctx context.Context, s *bucket.Store, keys []string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortGrace)
	defer cancel()
	var errs []error
	for _, key := range keys {
		if _, err := s.AbortAbandoned(ctx, key); err != nil {
			if !errors.As(err, new(*bucket.LeftBehindError)) {
				err = &bucket.LeftBehindError{Key: key, Err: err}
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errSameContent is a write refused because another writer put the same
// content (size and recorded sha256) under the key meanwhile.
var errSameContent = errors.New("another writer put the same content meanwhile")

// raced turns a refused conditional write, or a multipart upload aborted
// by someone else, into a *ConflictError: another writer got to key while
// this import ran. When the object now under key is what this import was
// writing (a second import of the same image), it is errSameContent: the
// key is in place, as if the plan had found it.
//
// A write to a key planned absent that failed in transit (a server may
// answer a refused conditional write by closing the connection while the
// body still streams: the client then sees a reset, not the 412) is
// judged by what the key holds now: another writer's object, or this
// content, or, when the key is still empty, the transport error itself.
func raced(ctx context.Context, s *bucket.Store, key string, size int64, sum string, wasAbsent bool, err error) error {
	if !errors.Is(err, bucket.ErrPrecondition) && !errors.Is(err, bucket.ErrUploadGone) {
		if !wasAbsent || ctx.Err() != nil || verify.IsFailure(err) {
			return err
		}
		obj, ok, serr := s.Stat(ctx, key)
		switch {
		case serr != nil || !ok:
			return err
		case obj.SHA256 == sum && obj.Size == size:
			return errSameContent
		}
		return &ConflictError{Bucket: s.Bucket(), Conflicts: []Conflict{{Key: key, Want: sum, Meanwhile: true}}, Err: err}
	}
	if obj, ok, serr := s.Stat(ctx, key); serr == nil && ok && obj.SHA256 == sum && obj.Size == size {
		return errSameContent
	}
	return &ConflictError{Bucket: s.Bucket(), Conflicts: []Conflict{{Key: key, Want: sum, Meanwhile: true}}, Err: err}
}

// endSignal closes end once its reader has returned its last byte or an
// error: from then on the bundle reader may move to the next entry.
type endSignal struct {
	r    io.Reader
	end  chan struct{}
	once sync.Once
}

func (e *endSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.release()
	}
	return n, err
}

// release says the upload reads no more of the entry.
func (e *endSignal) release() { e.once.Do(func() { close(e.end) }) }
