package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/record"
)

// Change says how an object differs from what was expected.
type Change string

const (
	ChangedSize    Change = "size"            // the object's size differs
	ChangedSHA256  Change = "recorded sha256" // x-amz-meta-sha256 differs or is missing
	ChangedContent Change = "content"         // deep audit: the data hashes differently
)

// Changed is an expected object found in a different state.
type Changed struct {
	Want   bucket.Object // as expected
	Got    bucket.Object // as found; for ChangedContent, SHA256 is the hash of the data
	Change Change
}

// Checked is one expected object as the audit checked it.
type Checked struct {
	bucket.Object        // as expected
	Deep          bool   // its data was downloaded and re-hashed
	Result        string // "ok", "missing" or "changed"
}

// Report is the outcome of an audit. All lists are in key order. It holds
// what drifted, not a record of each object checked: Objects derives those.
type Report struct {
	CheckedAt  time.Time
	Bucket     string
	Endpoint   string
	Prefix     string
	Deep       bool
	Keys       []string         // ids of the trusted keys the records were checked against
	Records    []record.Summary // the bundles audited
	Checked    int              // expected objects looked at
	Missing    []bucket.Object  // expected but absent
	Changed    []Changed        // present but different
	Unexpected []bucket.Object  // under a managed prefix but not expected
	Incomplete []bucket.Upload  // incomplete multipart uploads under the prefix

	want []record.Object // the expected objects checked, in key order
}

// Objects yields each expected object the audit looked at, in key order,
// with what it found. They are derived from the expected objects and the
// drift lists, so that a clean object costs the report no record of its
// own.
func (r *Report) Objects() iter.Seq[Checked] {
	return func(yield func(Checked) bool) {
		missing, changed := r.Missing, r.Changed
		for _, w := range r.want {
			c := Checked{Object: w.Bucket(), Deep: r.Deep, Result: "ok"}
			switch {
			case len(missing) > 0 && missing[0].Key == w.Key:
				c.Deep, c.Result = false, "missing"
				missing = missing[1:]
			case len(changed) > 0 && changed[0].Want.Key == w.Key:
				c.Deep, c.Result = changed[0].Change == ChangedContent, "changed"
				changed = changed[1:]
			}
			if !yield(c) {
				return
			}
		}
	}
}

// OK reports whether the bucket holds exactly what was expected.
func (r *Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Changed) == 0 && len(r.Unexpected) == 0 && len(r.Incomplete) == 0
}

// Err is nil when the report is OK and a *DriftError otherwise.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return &DriftError{Bucket: r.Bucket, Missing: len(r.Missing), Changed: len(r.Changed),
		Unexpected: len(r.Unexpected), Incomplete: len(r.Incomplete)}
}

// DriftError says the bucket no longer matches the signed manifests.
type DriftError struct {
	Bucket                                   string
	Missing, Changed, Unexpected, Incomplete int
}

func (e *DriftError) Error() string {
	msg := fmt.Sprintf("bucket %s drifted from the signed manifests: %d missing, %d changed, %d unexpected",
		e.Bucket, e.Missing, e.Changed, e.Unexpected)
	if e.Incomplete > 0 {
		msg += fmt.Sprintf(", %d incomplete uploads", e.Incomplete)
	}
	return msg
}

// Option tunes an audit.
type Option func(*options)

type options struct {
	deep    bool
	prefix  string
	trusted []keys.Public
}

// WithDeep downloads and re-hashes every expected object whose size and
// recorded sha256 look right (default off: metadata only).
func WithDeep(deep bool) Option { return func(o *options) { o.deep = deep } }

// WithPrefix names the import prefix the records were read under; the audit
// reports incomplete uploads under it.
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithTrusted names the keys the records were checked against, for the
// report.
func WithTrusted(trusted []keys.Public) Option { return func(o *options) { o.trusted = trusted } }

// Run compares the bucket with what the records of set say it holds (when
// records list the same key, the newest wins: record.Set.Expected). The
// report keeps set's summaries and expected objects, not the records'
// manifests. S3 errors stop the audit: a partial report would pass for a
// clean one. Drift is not an error here; see Report.Err.
func Run(ctx context.Context, s *bucket.Store, set *record.Set, opts ...Option) (*Report, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	rep := &Report{CheckedAt: time.Now().UTC(), Bucket: s.Bucket(), Endpoint: s.Endpoint(), Prefix: o.prefix,
		Deep: o.deep, Records: set.Records}
	for _, k := range o.trusted {
		rep.Keys = append(rep.Keys, k.ID)
	}
	want := set.Expected() // in key order, one per key
	// Unexpected objects are looked for anywhere under the prefix, not only
	// in the folders the records name: a new folder is drift too.
	if err := objects(ctx, s, rep, want, []string{o.prefix}, o.deep); err != nil {
		return nil, err
	}
	if err := incomplete(ctx, s, rep, o.prefix, want); err != nil {
		return nil, err
	}
	return rep, nil
}

// Present checks that each object of want is in the bucket with its size
// and recorded sha256, as a shallow audit checks it, and returns those
// missing and those that differ, in key order. S3 errors stop it.
func Present(ctx context.Context, s *bucket.Store, want []bucket.Object) (missing []bucket.Object, changed []Changed, err error) {
	a := auditor{s: s, rep: &Report{}}
	for _, w := range sortedByKey(want) {
		if err := a.check(ctx, w); err != nil {
			return nil, nil, err
		}
	}
	return a.rep.Missing, a.rep.Changed, nil
}

// incomplete reports the incomplete multipart uploads under prefix. On
// MinIO only a listing by a whole key is to be trusted: a listing by a
// shorter prefix answers nothing (an upload under ci/c/c-1.0.tgz is not
// listed for "ci/"), and one by no prefix, which lists the whole bucket,
// also lists uploads that are gone (aborted while a part was still being
// written; ListParts says NoSuchUpload), and forgets some when the server
// restarts; a node that was down lists by key uploads aborted meanwhile.
// So the listing of the whole bucket only finds keys; each key under
// prefix, each key of want (in key order) and each unexpected key of rep
// (an upload to a key nobody expects is as likely a leftover as one to an
// expected key) is then asked for by itself, and each upload that answers
// is reported if ListParts still knows it.
func incomplete(ctx context.Context, s *bucket.Store, rep *Report, prefix string, want []record.Object) error {
	all, err := s.Uploads(ctx, "")
	if err != nil {
		return err
	}
	var others []string // the keys to ask for that want does not hold
	for _, u := range all {
		if strings.HasPrefix(u.Key, prefix) {
			others = append(others, u.Key)
		}
	}
	for _, o := range rep.Unexpected {
		others = append(others, o.Key)
	}
	slices.Sort(others)
	others = slices.DeleteFunc(slices.Compact(others), func(key string) bool { return expected(want, key) })
	seen := map[string]bool{}
	ask := func(key string) error {
		ups, err := s.Uploads(ctx, key)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if u.Key != key || seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			if ok, err := s.UploadExists(ctx, u); err != nil {
				return err
			} else if ok {
				rep.Incomplete = append(rep.Incomplete, u)
			}
		}
		return nil
	}
	for _, w := range want {
		if err := ask(w.Key); err != nil {
			return err
		}
	}
	for _, key := range others {
		if err := ask(key); err != nil {
			return err
		}
	}
	slices.SortFunc(rep.Incomplete, func(a, b bucket.Upload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Initiated.Compare(b.Initiated)
	})
	return nil
}

// expected reports whether want, in key order, holds key.
func expected(want []record.Object, key string) bool {
	_, ok := slices.BinarySearchFunc(want, key, func(o record.Object, key string) int { return strings.Compare(o.Key, key) })
	return ok
}

// objects adds to rep what it finds comparing the bucket with want, the
// objects that should be there (Key, Size, SHA256), and keeps want (sorted
// by key, one per key, as record.Set.Expected returns it) and deep for
// Report.Objects. Keys under any of prefixes that are not in want are
// reported as unexpected.
func objects(ctx context.Context, s *bucket.Store, rep *Report, want []record.Object, prefixes []string, deep bool) error {
	rep.want, rep.Deep = want, deep
	a := auditor{s: s, rep: rep, deep: deep}
	for _, w := range want {
		if err := a.check(ctx, w.Bucket()); err != nil {
			return err
		}
	}
	return a.unexpected(ctx, want, prefixes)
}

type auditor struct {
	s    *bucket.Store
	rep  *Report
	deep bool
}

// check compares one expected object with the bucket.
func (a *auditor) check(ctx context.Context, w bucket.Object) error {
	a.rep.Checked++
	got, ok, err := a.s.Stat(ctx, w.Key)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		a.rep.Missing = append(a.rep.Missing, w)
	case got.Size != w.Size:
		a.changed(w, got, ChangedSize)
	case got.SHA256 != w.SHA256:
		a.changed(w, got, ChangedSHA256)
	case a.deep:
		if err := a.rehash(ctx, w, got); err != nil {
			return err
		}
	}
	return nil
}

// rehash downloads the object and compares the hash of its data.
func (a *auditor) rehash(ctx context.Context, w, got bucket.Object) error {
	r, err := a.s.Open(ctx, w.Key)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("downloading %s from bucket %s at %s: %w", w.Key, a.s.Bucket(), a.s.Endpoint(), err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != w.SHA256 {
		got.SHA256 = sum
		a.changed(w, got, ChangedContent)
	}
	return nil
}

func (a *auditor) changed(w, got bucket.Object, c Change) {
	got.ETag = ""
	a.rep.Changed = append(a.rep.Changed, Changed{Want: w, Got: got, Change: c})
}

// unexpected lists the managed prefixes for keys nobody expects, holding
// one listing page at a time: each key listed is looked up in want, in
// key order. The listing's own order does not matter (a directory bucket
// lists unordered).
func (a *auditor) unexpected(ctx context.Context, want []record.Object, prefixes []string) error {
	for i, p := range prefixes {
		err := a.s.Walk(ctx, p, func(o bucket.Object) error {
			// A key under an earlier prefix was listed there already.
			if !expected(want, o.Key) && !isRecordArea(o.Key) && !slices.ContainsFunc(prefixes[:i], func(q string) bool { return strings.HasPrefix(o.Key, q) }) {
				a.rep.Unexpected = append(a.rep.Unexpected, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	a.rep.Unexpected = sortedByKey(a.rep.Unexpected)
	return nil
}

// isRecordArea tells keys in a record folder (.airlock/ under any
// prefix), which record.Scan checks.
func isRecordArea(key string) bool {
	return strings.HasPrefix(key, ".airlock/") || strings.Contains(key, "/.airlock/")
}

func byKey(a, b bucket.Object) int { return strings.Compare(a.Key, b.Key) }

func sortedByKey(objs []bucket.Object) []bucket.Object {
	return slices.SortedFunc(slices.Values(objs), byKey)
}
