package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// Folder is where import keeps each bundle's signed manifest, relative to
// the import prefix: Folder + ID + "/" + file.
const Folder = ".airlock/bundles/"

// SignatureFolder is where import keeps carried signature evidence,
// relative to the import prefix: SignatureFolder + "sha256/" + hex.
const SignatureFolder = ".airlock/signatures/"

// BinariesFolder is where import keeps carried airlock binaries, relative
// to the import prefix: BinariesFolder + VERSION + "/" + file name
// (docs/format.md section 14).
const BinariesFolder = ".airlock/bin/"

// BinaryKey is where import keeps carried binary b under prefix.
func BinaryKey(prefix string, b *manifest.Binary) string {
	return prefix + BinariesFolder + b.Version + "/" + b.FileName()
}

// Record is a bundle's signed manifest as kept in the bucket.
type Record struct {
	ID       string
	Prefix   string // the import prefix the bundle's keys are relative to
	Signer   keys.Public
	Manifest *manifest.Manifest
	Raw      []byte // manifest.json as signed, for its digest (package freshness)
}

// FromBundle is the record of bundle r imported under prefix.
func FromBundle(prefix string, r *bundle.Reader) Record {
	return Record{ID: r.ID, Prefix: prefix, Signer: r.Signer, Manifest: r.Manifest, Raw: r.Raw}
}

// Expected lists the objects a record says the bucket holds: its images
// and carried airlock binaries.
func (r Record) Expected() []bucket.Object {
	var objs []bucket.Object
	for _, e := range r.Manifest.ImageObjects() {
		objs = append(objs, bucket.Object{Key: r.Prefix + e.Image.Key, Size: e.Size, SHA256: e.SHA256})
	}
	for _, e := range r.Manifest.Entries {
		if e.Binary != nil {
			objs = append(objs, bucket.Object{Key: BinaryKey(r.Prefix, e.Binary), Size: e.Size, SHA256: e.SHA256})
		}
	}
	return objs
}

// files are the files of a record, in the order they are uploaded.
var files = []struct{ name, contentType string }{
	{manifest.ManifestName, "application/json"},
	{manifest.SigName, "application/octet-stream"},
	{manifest.SumsName, "text/plain; charset=utf-8"}, // last: its presence marks a complete record
}

// Keys are the keys of the record of bundle id under prefix.
func Keys(prefix, id string) []string {
	keys := make([]string, len(files))
	for i, f := range files {
		keys[i] = prefix + Folder + id + "/" + f.name
	}
	return keys
}

// Put stores the signed head of bundle r under prefix and returns the
// record's folder. Files already there with the same checksum are left
// alone; a record file is written only where none is (If-None-Match), or
// over the damaged one seen (If-Match), so two imports of one bundle at the
// same time both succeed.
func Put(ctx context.Context, s *bucket.Store, prefix string, r *bundle.Reader) (string, error) {
	folder := prefix + Folder + r.ID + "/"
	data := map[string][]byte{manifest.ManifestName: r.Raw, manifest.SigName: r.Sig, manifest.SumsName: r.Sums}
	for _, f := range files {
		b := data[f.name]
		sum := sha256.Sum256(b)
		hexSum := hex.EncodeToString(sum[:])
		key := folder + f.name
		obj, ok, err := s.Stat(ctx, key)
		if err != nil {
			return "", err
		}
		if ok && obj.SHA256 == hexSum {
			continue
		}
		cond := bucket.IfAbsent()
		if ok {
			cond = bucket.IfUnchanged(obj.ETag)
		}
		err = s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), hexSum, bucket.WithContentType(f.contentType), cond)
		if errors.Is(err, bucket.ErrPrecondition) {
			// Another import of the same bundle wrote it meanwhile; the ID
			// is the hash of SHA256SUMS, so only a matching copy counts.
			if obj, ok, serr := s.Stat(ctx, key); serr == nil && ok && obj.SHA256 == hexSum {
				continue
			}
		}
		if err != nil {
			return "", err
		}
	}
	return folder, nil
}

// Read reads every bundle record kept under prefix and checks each one's
// signature against trusted keys; a record that fails is an error (a
// *verify.Error when the signature or checksums are wrong).
func Read(ctx context.Context, s *bucket.Store, prefix string, trusted []keys.Public) ([]Record, error) {
	ids, err := recordIDs(ctx, s, prefix)
	if err != nil {
		return nil, err
	}
	records := make([]Record, 0, len(ids))
	for _, id := range ids {
		rec, err := read(ctx, s, prefix, id, trusted)
		if err != nil {
			return nil, err
		}
		records = append(records, rec)
	}
	return records, nil
}

// recordIDs lists the ids of the complete records under prefix (those
// with a SHA256SUMS), in order.
func recordIDs(ctx context.Context, s *bucket.Store, prefix string) ([]string, error) {
	var ids []string
	err := s.Walk(ctx, prefix+Folder, func(o bucket.Object) error {
		if path.Base(o.Key) == manifest.SumsName {
			ids = append(ids, path.Base(path.Dir(o.Key)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	return ids, nil
}

func read(ctx context.Context, s *bucket.Store, prefix, id string, trusted []keys.Public) (Record, error) {
	folder := prefix + Folder + id + "/"
	got := map[string][]byte{}
	for _, f := range files {
		b, err := readSmall(ctx, s, folder+f.name, manifest.MaxManifestSize)
		if err != nil {
			return Record{}, fmt.Errorf("bundle record %s: %w", folder, err)
		}
		got[f.name] = b
	}
	signer, m, err := bundle.VerifyHead(got[manifest.SumsName], got[manifest.SigName], got[manifest.ManifestName], trusted)
	if err != nil {
		return Record{}, fmt.Errorf("bundle record %s: %w", folder, err)
	}
	if gotID := bundle.ID(got[manifest.SumsName]); gotID != id {
		return Record{}, fmt.Errorf("bundle record %s holds bundle %s", folder, gotID)
	}
	return Record{ID: id, Prefix: prefix, Signer: signer, Manifest: m, Raw: got[manifest.ManifestName]}, nil
}

func readSmall(ctx context.Context, s *bucket.Store, key string, max int64) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return bounded.ReadAll(rc, max, key)
}

// Prefixes lists the import prefixes under which the bucket holds bundle
// records, whatever prefix was asked for: the ones where a record's
// SHA256SUMS lies at PREFIX + Folder + ID + "/SHA256SUMS".
func Prefixes(ctx context.Context, s *bucket.Store) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	err := s.Walk(ctx, "", func(o bucket.Object) error { // the whole bucket, a page at a time
		i := strings.Index(o.Key, Folder)
		if i < 0 || (i > 0 && o.Key[i-1] != '/') || path.Base(o.Key) != manifest.SumsName {
			return nil
		}
		if p := o.Key[:i]; !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}
