package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// Summary is what an audit keeps of a record once its signature is
// checked: not the manifest, nor its bytes.
type Summary struct {
	ID        string
	Prefix    string
	Signer    keys.Public
	Created   time.Time
	Digest    string              // hex sha256 of manifest.json as signed (freshness.Digest)
	Freshness *manifest.Freshness // nil when the manifest names no channel
}

// Summarize is the summary of r.
func Summarize(r Record) Summary {
	sum := sha256.Sum256(r.Raw)
	s := Summary{ID: r.ID, Prefix: r.Prefix, Signer: r.Signer, Digest: hex.EncodeToString(sum[:])}
	if r.Manifest != nil {
		s.Created = r.Manifest.Created
		if f := r.Manifest.Freshness; f != nil {
			c := *f
			s.Freshness = &c
		}
	}
	return s
}

// Object is an object a record expects, kept small: its key, size and
// sha256, and the index in Set.Records of the record that lists it.
type Object struct {
	Key    string
	Size   int64
	SHA256 [32]byte
	Record int32
}

// Bucket is o as a bucket.Object (Key, Size, SHA256 in hex).
func (o Object) Bucket() bucket.Object {
	return bucket.Object{Key: o.Key, Size: o.Size, SHA256: hex.EncodeToString(o.SHA256[:])}
}

// Set is the records of a bucket as an audit needs them: a summary of each
// record and the objects they expect, without their manifests.
type Set struct {
	Records []Summary // in the order added (Scan: bundle id order)

	objs   []Object // as added, or merged (key order, one per key)
	merged bool
}

// Add summarizes r and adds the objects it expects: its images and carried
// airlock binaries (as Record.Expected lists them). r's manifest is not
// kept.
func (s *Set) Add(r Record) error {
	idx := int32(len(s.Records))
	add := func(key string, size int64, sum string) error {
		var o Object
		if !manifest.IsSHA256Hex(sum) {
			return fmt.Errorf("bundle record %s: object %s: sha256 %q is not 64 lowercase hex digits", r.ID, key, sum)
		}
		hex.Decode(o.SHA256[:], []byte(sum))
		o.Key, o.Size, o.Record = key, size, idx
		s.objs = append(s.objs, o)
		return nil
	}
	for _, e := range r.Manifest.ImageObjects() {
		if err := add(r.Prefix+e.Image.Key, e.Size, e.SHA256); err != nil {
			return err
		}
	}
	for _, e := range r.Manifest.Entries {
		if e.Binary != nil {
			if err := add(BinaryKey(r.Prefix, e.Binary), e.Size, e.SHA256); err != nil {
				return err
			}
		}
	}
	s.Records = append(s.Records, Summarize(r))
	s.merged = false
	return nil
}

// NewSet is the set of records.
func NewSet(records []Record) (*Set, error) {
	s := &Set{}
	for _, r := range records {
		if err := s.Add(r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Expected is what the records expect, in key order, one object per key:
// when records list the same key, the newest created wins (of records
// created at once, the one added last; of one record's entries, the last).
// The slice is the set's own; do not change it.
func (s *Set) Expected() []Object {
	if s.merged {
		return s.objs
	}
	// A stable sort keeps the order added among the objects of one key.
	slices.SortStableFunc(s.objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	out := s.objs[:0]
	for i := 0; i < len(s.objs); {
		j, win := i+1, s.objs[i]
		for ; j < len(s.objs) && s.objs[j].Key == win.Key; j++ {
			if !s.Records[s.objs[j].Record].Created.Before(s.Records[win.Record].Created) {
				win = s.objs[j]
			}
		}
		out = append(out, win)
		i = j
	}
	clear(s.objs[len(out):])
	s.objs, s.merged = slices.Clip(out), true
	return s.objs
}

// Len is the number of records.
func (s *Set) Len() int { return len(s.Records) }

// Scan reads every bundle record kept under prefix, as Read does, checking
// each one's signature against trusted keys before anything of it is
// used, and keeps of each only its summary and the objects it expects.
func Scan(ctx context.Context, s *bucket.Store, prefix string, trusted []keys.Public) (*Set, error) {
	ids, err := recordIDs(ctx, s, prefix)
	if err != nil {
		return nil, err
	}
	set := &Set{Records: make([]Summary, 0, len(ids))}
	for _, id := range ids {
		rec, err := read(ctx, s, prefix, id, trusted)
		if err != nil {
			return nil, err
		}
		if err := set.Add(rec); err != nil {
			return nil, err
		}
	}
	return set, nil
}
