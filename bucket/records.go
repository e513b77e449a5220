package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// RecordFolder is where import keeps each bundle's signed manifest,
// relative to the import prefix: RecordFolder + ID + "/" + file.
const RecordFolder = ".airlock/bundles/"

// SignatureFolder is where import keeps carried signature evidence,
// relative to the import prefix: SignatureFolder + "sha256/" + hex.
const SignatureFolder = ".airlock/signatures/"

// Record is a bundle's signed manifest as kept in the bucket.
type Record struct {
	ID       string
	Prefix   string // the import prefix the bundle's keys are relative to
	Signer   keys.Public
	Manifest *manifest.Manifest
}

// Expected lists the objects a record says the bucket holds.
func (r Record) Expected() []Object {
	var objs []Object
	for _, e := range r.Manifest.Entries {
		if e.Image != nil {
			objs = append(objs, Object{Key: r.Prefix + e.Image.Key, Size: e.Size, SHA256: e.SHA256})
		}
	}
	return objs
}

// recordFiles are the files of a record, in the order they are uploaded.
var recordFiles = []struct{ name, contentType string }{
	{manifest.ManifestName, "application/json"},
	{manifest.SigName, "application/octet-stream"},
	{manifest.SumsName, "text/plain; charset=utf-8"}, // last: its presence marks a complete record
}

// putRecord stores the signed head of a bundle under prefix. Files already
// there with the same checksum are left alone.
func (s *Store) putRecord(ctx context.Context, prefix string, r *bundle.Reader) (string, error) {
	folder := prefix + RecordFolder + r.ID + "/"
	data := map[string][]byte{manifest.ManifestName: r.Raw, manifest.SigName: r.Sig, manifest.SumsName: r.Sums}
	for _, f := range recordFiles {
		b := data[f.name]
		sum := sha256.Sum256(b)
		hexSum := hex.EncodeToString(sum[:])
		if obj, ok, err := s.Stat(ctx, folder+f.name); err != nil {
			return "", err
		} else if ok && obj.SHA256 == hexSum {
			continue
		}
		if err := s.Put(ctx, folder+f.name, bytes.NewReader(b), int64(len(b)), hexSum, WithContentType(f.contentType)); err != nil {
			return "", err
		}
	}
	return folder, nil
}

// Records reads every bundle record kept under prefix and checks each one's
// signature against trusted keys; a record that fails is an error (a
// *verify.Error when the signature or checksums are wrong).
func (s *Store) Records(ctx context.Context, prefix string, trusted []keys.Public) ([]Record, error) {
	objs, err := s.List(ctx, prefix+RecordFolder)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range objs {
		if path.Base(o.Key) == manifest.SumsName {
			ids = append(ids, path.Base(path.Dir(o.Key)))
		}
	}
	sort.Strings(ids)
	records := make([]Record, 0, len(ids))
	for _, id := range ids {
		rec, err := s.record(ctx, prefix, id, trusted)
		if err != nil {
			return nil, err
		}
		records = append(records, rec)
	}
	return records, nil
}

func (s *Store) record(ctx context.Context, prefix, id string, trusted []keys.Public) (Record, error) {
	folder := prefix + RecordFolder + id + "/"
	files := map[string][]byte{}
	for _, f := range recordFiles {
		b, err := s.readSmall(ctx, folder+f.name, manifest.MaxManifestSize)
		if err != nil {
			return Record{}, fmt.Errorf("bundle record %s: %w", folder, err)
		}
		files[f.name] = b
	}
	signer, m, err := bundle.VerifyHead(files[manifest.SumsName], files[manifest.SigName], files[manifest.ManifestName], trusted)
	if err != nil {
		return Record{}, fmt.Errorf("bundle record %s: %w", folder, err)
	}
	if got := bundle.ID(files[manifest.SumsName]); got != id {
		return Record{}, fmt.Errorf("bundle record %s holds bundle %s", folder, got)
	}
	return Record{ID: id, Prefix: prefix, Signer: signer, Manifest: m}, nil
}

func (s *Store) readSmall(ctx context.Context, key string, max int64) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", key, max)
	}
	return b, nil
}

// ExpectedFrom merges what records expect; when records disagree about a
// key, the newest record wins. It also returns the managed prefixes: the
// first key level of every expected object, under which nothing else is
// expected to live.
func ExpectedFrom(records []Record) (want []Object, prefixes []string) {
	sorted := append([]Record(nil), records...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Manifest.Created.Before(sorted[j].Manifest.Created) })
	byKey := map[string]Object{}
	managed := map[string]bool{}
	for _, r := range sorted {
		for _, o := range r.Expected() {
			byKey[o.Key] = o
			rel := strings.TrimPrefix(o.Key, r.Prefix)
			first, _, _ := strings.Cut(rel, "/")
			managed[r.Prefix+first+"/"] = true
		}
	}
	for _, o := range byKey {
		want = append(want, o)
	}
	for p := range managed {
		prefixes = append(prefixes, p)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Key < want[j].Key })
	sort.Strings(prefixes)
	return want, prefixes
}
