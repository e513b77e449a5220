package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
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
	Want   Object // as expected
	Got    Object // as found; for ChangedContent, SHA256 is the hash of the data
	Change Change
}

// Report is the outcome of an Audit. All lists are in key order.
type Report struct {
	Checked    int       // expected objects looked at
	Missing    []Object  // expected but absent
	Changed    []Changed // present but different
	Unexpected []Object  // under a managed prefix but not expected
}

// OK reports whether the bucket holds exactly what was expected.
func (r *Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Changed) == 0 && len(r.Unexpected) == 0
}

// AuditOption tunes an Audit.
type AuditOption func(*auditOptions)

type auditOptions struct {
	deep   bool
	hashed func(total int64)
}

// WithDeep downloads and re-hashes every expected object whose size and
// recorded sha256 look right (default off: metadata only).
func WithDeep(deep bool) AuditOption { return func(o *auditOptions) { o.deep = deep } }

// WithHashProgress calls fn with the total bytes hashed so far in a deep audit.
func WithHashProgress(fn func(total int64)) AuditOption {
	return func(o *auditOptions) {
		if fn != nil {
			o.hashed = fn
		}
	}
}

// Audit compares the bucket with want, the objects that should be there
// (Key, Size, SHA256). Keys under any of prefixes that are not in want are
// reported as unexpected. S3 errors stop the audit: a partial report would
// pass for a clean one.
func (s *Store) Audit(ctx context.Context, want []Object, prefixes []string, opts ...AuditOption) (*Report, error) {
	a := auditor{s: s, rep: &Report{}, opts: auditOptions{hashed: func(int64) {}}}
	for _, opt := range opts {
		opt(&a.opts)
	}
	for _, w := range sortedByKey(want) {
		if err := a.check(ctx, w); err != nil {
			return nil, err
		}
	}
	if err := a.unexpected(ctx, want, prefixes); err != nil {
		return nil, err
	}
	return a.rep, nil
}

type auditor struct {
	s      *Store
	rep    *Report
	opts   auditOptions
	hashed int64
}

// check compares one expected object with the bucket.
func (a *auditor) check(ctx context.Context, w Object) error {
	a.rep.Checked++
	got, ok, err := a.s.Stat(ctx, w.Key)
	switch {
	case err != nil:
		return err
	case !ok:
		a.rep.Missing = append(a.rep.Missing, w)
	case got.Size != w.Size:
		a.changed(w, got, ChangedSize)
	case got.SHA256 != w.SHA256:
		a.changed(w, got, ChangedSHA256)
	case a.opts.deep:
		return a.rehash(ctx, w, got)
	}
	return nil
}

// rehash downloads the object and compares the hash of its data.
func (a *auditor) rehash(ctx context.Context, w, got Object) error {
	sum, err := a.hash(ctx, w.Key)
	if err != nil {
		return err
	}
	if sum != w.SHA256 {
		got.SHA256 = sum
		a.changed(w, got, ChangedContent)
	}
	return nil
}

func (a *auditor) hash(ctx context.Context, key string) (string, error) {
	r, err := a.s.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, progressWriter{a}), r); err != nil {
		return "", &Error{Op: "get", Bucket: a.s.bucket, Key: key, Endpoint: a.s.endpoint, Err: fmt.Errorf("reading object: %w", err)}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (a *auditor) changed(w, got Object, c Change) {
	a.rep.Changed = append(a.rep.Changed, Changed{Want: w, Got: got, Change: c})
}

// unexpected lists the managed prefixes for keys nobody expects.
func (a *auditor) unexpected(ctx context.Context, want []Object, prefixes []string) error {
	expected := make(map[string]bool, len(want))
	for _, w := range want {
		expected[w.Key] = true
	}
	seen := map[string]bool{}
	for _, p := range prefixes {
		objs, err := a.s.List(ctx, p)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !expected[o.Key] && !seen[o.Key] {
				seen[o.Key] = true
				a.rep.Unexpected = append(a.rep.Unexpected, o)
			}
		}
	}
	a.rep.Unexpected = sortedByKey(a.rep.Unexpected)
	return nil
}

type progressWriter struct{ a *auditor }

func (p progressWriter) Write(b []byte) (int, error) {
	p.a.hashed += int64(len(b))
	p.a.opts.hashed(p.a.hashed)
	return len(b), nil
}

func sortedByKey(objs []Object) []Object {
	return slices.SortedFunc(slices.Values(objs), func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
}
