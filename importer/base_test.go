package importer

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// A delta whose base the bucket lacks is refused before anything is
// uploaded, with a *BaseError that is a verification failure naming each
// missing or different object; WithAllowMissingBase imports it anyway,
// reporting each; where the base is, it imports as usual.
func TestDeltaNeedsItsBase(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	ctx := context.Background()
	old, oldSum := buckettest.Data(1000, 1)
	lib, libSum := buckettest.Data(2000, 2)
	base := &manifest.Base{Bucket: "images", Prefix: "ci/", Created: time.Unix(1700000000, 0).UTC(), Objects: []manifest.BaseObject{
		{Key: "lib/lib-1.0.tgz", Size: int64(len(lib)), SHA256: libSum},
		{Key: "old/old-1.0.tgz", Size: int64(len(old)), SHA256: oldSum},
	}}
	files, trusted := writeDelta(t, base)

	_, err := runImport(t, s, files, trusted)
	var be *BaseError
	if !errors.As(err, &be) || !verify.IsFailure(err) || len(be.Missing) != 2 || be.Missing[0].Key != "ci/lib/lib-1.0.tgz" {
		t.Fatalf("import into an empty bucket = %v, want a *BaseError (a verification failure) naming both base objects", err)
	}
	if objs, _ := s.List(ctx, ""); len(objs) != 0 {
		t.Fatalf("refused import left %v in the bucket", objs)
	}

	if err := s.Put(ctx, "ci/old/old-1.0.tgz", bytes.NewReader(old), int64(len(old)), oldSum); err != nil {
		t.Fatal(err)
	}
	other, otherSum := buckettest.Data(2000, 3)
	if err := s.Put(ctx, "ci/lib/lib-1.0.tgz", bytes.NewReader(other), int64(len(other)), otherSum); err != nil {
		t.Fatal(err)
	}
	_, err = runImport(t, s, files, trusted)
	if !errors.As(err, &be) || len(be.Missing) != 0 || len(be.Changed) != 1 || be.Changed[0].Want.Key != "ci/lib/lib-1.0.tgz" {
		t.Fatalf("import with a changed base object = %v, want a *BaseError naming ci/lib/lib-1.0.tgz", err)
	}

	var reported []string
	res, err := runImport(t, s, files, trusted, WithAllowMissingBase(true), WithEvents(func(e Event) {
		if e.Kind == BaseMissing {
			reported = append(reported, e.Key+" "+e.Reason)
		}
	}))
	if err != nil || res.Uploaded != 1 || len(reported) != 1 || reported[0] != "ci/lib/lib-1.0.tgz recorded sha256 differs" {
		t.Fatalf("allowed: %+v, %v, reported %q", res, err, reported)
	}

	s2 := buckettest.New(t, srv)
	for key, b := range map[string][]byte{"ci/old/old-1.0.tgz": old, "ci/lib/lib-1.0.tgz": lib} {
		if err := s2.Put(ctx, key, bytes.NewReader(b), int64(len(b)), buckettest.SHA(b)); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := runImport(t, s2, files, trusted); err != nil || res.Uploaded != 1 {
		t.Fatalf("import where the base is: %+v, %v", res, err)
	}
}

// writeDelta writes a bundle of one image, new/new-1.0.tgz, cut against base.
func writeDelta(t *testing.T, base *manifest.Base) ([]string, []keys.Public) {
	t.Helper()
	b, _ := buckettest.Data(500, 9)
	return signedBundle(t, []bundle.Payload{imagePayload("new", "1.0", b)}, bundle.WithBase(base))
}
