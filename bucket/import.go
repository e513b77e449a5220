package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
)

// ImportEventKind says what an ImportEvent reports.
type ImportEventKind string

// Import event kinds.
const (
	Planned  ImportEventKind = "planned"  // Action says what will happen to Key
	Uploaded ImportEventKind = "uploaded" // Key is in the bucket, complete and verified
	Sent     ImportEventKind = "progress" // Bytes more bytes of Key were uploaded
	Recorded ImportEventKind = "recorded" // the bundle's signed manifest is stored at Key
)

// Action is what import does with one image.
type Action string

// Actions.
const (
	Upload  Action = "upload"
	Skip    Action = "skip"    // already there with the same checksum
	Replace Action = "replace" // there with another checksum, and overwriting was allowed
)

// ImportEvent is one step of an import.
type ImportEvent struct {
	Kind   ImportEventKind `json:"event"`
	Key    string          `json:"key,omitempty"`
	Entry  string          `json:"entry,omitempty"`
	Action Action          `json:"action,omitempty"`
	Size   int64           `json:"size,omitempty"`
	Bytes  int64           `json:"bytes,omitempty"`
}

// ImportOption configures Import.
type ImportOption func(*importOptions)

type importOptions struct {
	prefix    string
	overwrite bool
	force     bool
	dryRun    bool
	events    func(ImportEvent)
	put       []PutOption
}

// WithPrefix puts every key under prefix (e.g. "concourse/").
func WithPrefix(prefix string) ImportOption { return func(o *importOptions) { o.prefix = prefix } }

// WithOverwrite replaces objects that exist with another checksum (default:
// refuse, naming the keys).
func WithOverwrite(ok bool) ImportOption { return func(o *importOptions) { o.overwrite = ok } }

// WithForce uploads every image, even over an object that records the same
// checksum: it repairs objects whose content changed behind a correct
// looking checksum (found by a deep audit). Implies WithOverwrite.
func WithForce(ok bool) ImportOption { return func(o *importOptions) { o.force = ok } }

// WithDryRun plans the import, reporting Planned events, and uploads nothing.
func WithDryRun(ok bool) ImportOption { return func(o *importOptions) { o.dryRun = ok } }

// WithImportEvents receives progress events.
func WithImportEvents(fn func(ImportEvent)) ImportOption {
	return func(o *importOptions) { o.events = fn }
}

// WithPutOptions tunes each upload (part size, concurrency).
func WithPutOptions(opts ...PutOption) ImportOption {
	return func(o *importOptions) { o.put = append(o.put, opts...) }
}

// ImportResult sums up an import.
type ImportResult struct {
	Uploaded, Skipped int
	Bytes             int64  // bytes uploaded
	Record            string // folder of the bundle's record in the bucket
	Elapsed           time.Duration
}

// Import loads every image of a bundle whose signature r has checked into
// the bucket, in one pass over the bundle: each entry streams straight into
// an upload while it is hashed, and an entry that does not match the signed
// manifest aborts its upload, so no unverified object ever appears. Objects
// already there with the same checksum are skipped, so a re-run after a
// failure finishes the job. The bundle's signed manifest is stored last,
// under prefix + RecordFolder.
func (s *Store) Import(ctx context.Context, r *bundle.Reader, opts ...ImportOption) (*ImportResult, error) {
	start := time.Now()
	o := importOptions{events: func(ImportEvent) {}}
	for _, opt := range opts {
		opt(&o)
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	plan, err := s.planImport(ctx, r, o)
	if err != nil || o.dryRun {
		return &ImportResult{}, err
	}
	var toUpload []string
	for _, p := range plan {
		if p.action != Skip {
			toUpload = append(toUpload, p.key)
		}
	}
	if _, err := s.AbortIncomplete(ctx, toUpload...); err != nil {
		return nil, err
	}
	res, err := s.upload(ctx, r, plan, o)
	if err != nil {
		return nil, err
	}
	if res.Record, err = s.putRecord(ctx, o.prefix, r); err != nil {
		return nil, err
	}
	o.events(ImportEvent{Kind: Recorded, Key: res.Record})
	res.Elapsed = time.Since(start)
	return res, nil
}

type planned struct {
	key    string
	action Action
}

// planImport decides, before any upload, what happens to each image entry,
// and refuses when objects with other checksums are in the way.
func (s *Store) planImport(ctx context.Context, r *bundle.Reader, o importOptions) (map[string]planned, error) {
	plan := map[string]planned{}
	var conflicts []string
	for _, e := range r.Manifest.Entries {
		key, ok := importKey(e, o.prefix)
		if !ok {
			continue
		}
		p := planned{key: key, action: Upload}
		obj, ok, err := s.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		switch {
		case ok && o.force:
			p.action = Replace
		case ok && obj.SHA256 == e.SHA256 && obj.Size == e.Size:
			p.action = Skip
		case ok && o.overwrite:
			p.action = Replace
		case ok:
			conflicts = append(conflicts, fmt.Sprintf("%s (sha256 %s, the bundle has %s)", key, orNone(obj.SHA256), e.SHA256))
		}
		plan[e.Path] = p
		o.events(ImportEvent{Kind: Planned, Key: key, Entry: e.Path, Action: p.action, Size: e.Size})
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("bucket %s already holds other content at %s; pass --overwrite to replace it",
			s.bucket, strings.Join(conflicts, ", "))
	}
	return plan, nil
}

// importKey is where an entry goes: an image to its key under prefix,
// carried signature evidence into the record area, where no S3 resource
// regexp looks; other entries are not imported.
func importKey(e manifest.Entry, prefix string) (string, bool) {
	switch {
	case e.Image != nil:
		return prefix + e.Image.Key, true
	case strings.HasPrefix(e.Path, manifest.SignaturePrefix):
		return prefix + SignatureFolder + strings.TrimPrefix(e.Path, manifest.SignaturePrefix), true
	}
	return "", false
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

// uploadsInFlight is how many objects upload at once: the next entry is
// read from the bundle while the previous one's last parts are still on
// their way, so the pipe to the server never runs dry between objects.
const uploadsInFlight = 2

// importPartSize keeps part buffers (parts x (concurrency+1) per upload in
// flight) well inside airlock's memory budget.
const importPartSize = 8 * MiB

// upload streams the bundle's entries; skipped and non-image entries are
// still read and verified by the bundle reader. The bundle is read in one
// pass: an entry's upload gets the reader until it has read the entry to
// its end, then finishes in the background while the next entry is read.
func (s *Store) upload(ctx context.Context, r *bundle.Reader, plan map[string]planned, o importOptions) (*ImportResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	res := &ImportResult{}
	var mu sync.Mutex // guards res and o.events
	emit := func(e ImportEvent) { mu.Lock(); o.events(e); mu.Unlock() }
	slots := make(chan struct{}, uploadsInFlight)
	var wg sync.WaitGroup
	finish := func() (*ImportResult, error) {
		wg.Wait()
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		return res, nil
	}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return finish()
		}
		if err != nil {
			cancel(err)
			return finish()
		}
		p, ok := plan[e.Path]
		if !ok || p.action == Skip {
			if ok {
				mu.Lock()
				res.Skipped++
				mu.Unlock()
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return finish()
		}
		body := &endSignal{r: e, end: make(chan struct{})}
		put := append([]PutOption{WithPartSize(importPartSize), WithSelfCheckingBody(), WithProgress(progressDelta(func(n int64) {
			emit(ImportEvent{Kind: Sent, Key: p.key, Bytes: n})
		}))}, o.put...)
		wg.Add(1)
		go func(e *bundle.Entry, key string) {
			defer wg.Done()
			defer func() { <-slots }()
			if err := s.Put(ctx, key, body, e.Size, e.SHA256, put...); err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			res.Uploaded++
			res.Bytes += e.Size
			mu.Unlock()
			emit(ImportEvent{Kind: Uploaded, Key: key, Entry: e.Path, Size: e.Size})
		}(e, p.key)
		select {
		case <-body.end: // the upload has all of the entry; read on
		case <-ctx.Done():
			return finish()
		}
	}
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
		e.once.Do(func() { close(e.end) })
	}
	return n, err
}

// progressDelta turns running totals into increments.
func progressDelta(fn func(int64)) func(int64) {
	var last int64
	return func(total int64) {
		if total > last {
			fn(total - last)
			last = total
		}
	}
}
