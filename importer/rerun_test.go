package importer

import (
	"context"
	"errors"
	"testing"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/record"
)

// image is one image entry of a test bundle: its name (key NAME/NAME-1.0.tgz)
// and the seed and size of its content.
type image struct {
	name string
	size int
	seed uint64
}

// writeImages writes a bundle of images signed by a new key.
func writeImages(t *testing.T, images ...image) ([]string, []keys.Public) {
	t.Helper()
	var payloads []bundle.Payload
	for _, im := range images {
		b, _ := buckettest.Data(im.size, im.seed)
		payloads = append(payloads, imagePayload(im.name, "1.0", b))
	}
	return signedBundle(t, payloads)
}

// assertAuditOK checks that a deep audit of every record under ci/ finds
// the bucket as signed, with wantChecked objects.
func assertAuditOK(t *testing.T, s *bucket.Store, trusted []keys.Public, wantChecked int) {
	t.Helper()
	assertAuditOKUnder(t, s, trusted, "ci/", wantChecked)
}

func assertAuditOKUnder(t *testing.T, s *bucket.Store, trusted []keys.Public, prefix string, wantChecked int) {
	t.Helper()
	rep := deepAudit(t, s, trusted, prefix)
	if !rep.OK() || rep.Checked != wantChecked {
		t.Fatalf("deep audit: %d checked (want %d), missing %v, changed %v, unexpected %v, incomplete %v",
			rep.Checked, wantChecked, rep.Missing, rep.Changed, rep.Unexpected, rep.Incomplete)
	}
}

// deepAudit audits every record under prefix with --deep.
func deepAudit(t *testing.T, s *bucket.Store, trusted []keys.Public, prefix string) *audit.Report {
	t.Helper()
	records, err := record.Scan(context.Background(), s, prefix, trusted)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Run(context.Background(), s, records, audit.WithDeep(true), audit.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// An import interrupted at any point, then run again to its end, leaves a
// bucket that a deep audit finds exactly as signed, with or without an
// import prefix. (Interrupted mid-part, MinIO may go on listing the aborted
// upload in the listing of the whole bucket, though it is gone: ListParts
// says NoSuchUpload and the listing by its key does not show it. Several
// rounds, so that shows.)
func TestInterruptedImportThenRerunAuditsOK(t *testing.T) {
	srv := minio.Get(t)
	for _, tc := range []struct {
		name string
		at   func(Event) bool
	}{
		{"first part", func(e Event) bool { return e.Kind == Progress }},
		{"first object", func(e Event) bool { return e.Kind == Uploaded }},
		{"planned", func(e Event) bool { return e.Kind == Planned }},
	} {
		for _, prefix := range []string{"ci/", ""} {
			t.Run(tc.name+" prefix "+prefix, func(t *testing.T) {
				for range 4 {
					s := buckettest.New(t, srv)
					files, trusted := writeImages(t, image{"a", 12 << 20, 1}, image{"b", 12 << 20, 2}, image{"c", 1000, 3})
					ctx, cancel := context.WithCancel(context.Background())
					_, err := runImportCtx(ctx, t, s, files, trusted, WithPrefix(prefix), WithEvents(func(e Event) {
						if tc.at(e) {
							cancel()
						}
					}))
					cancel()
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("interrupted import = %v, want context.Canceled", err)
					}
					if _, err := runImport(t, s, files, trusted, WithPrefix(prefix)); err != nil {
						t.Fatalf("re-run: %v", err)
					}
					assertAuditOKUnder(t, s, trusted, prefix, 3)
				}
			})
		}
	}
}

// Two imports that meet, then one plain re-run of each that failed: a
// deep audit finds the bucket as signed. Same bundle twice, and two
// bundles sharing a key with the same content.
func TestConcurrentImportsThenRerunAuditOK(t *testing.T) {
	srv := minio.Get(t)
	shared := image{"shared", 12 << 20, 7}
	for _, tc := range []struct {
		name    string
		bundles [2][]image
	}{
		{"same bundle", [2][]image{{{"a", 12 << 20, 1}, shared}, {{"a", 12 << 20, 1}, shared}}},
		{"overlapping bundles", [2][]image{{{"a", 12 << 20, 1}, shared}, {shared, {"b", 12 << 20, 2}}}},
		{"overlapping small", [2][]image{{{"a", 1000, 1}, {"shared", 1000, 7}}, {{"shared", 1000, 7}, {"b", 1000, 2}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := buckettest.New(t, srv)
			var files [2][]string
			var trusted []keys.Public
			for i := range files {
				f, pub := writeImages(t, tc.bundles[i]...)
				files[i], trusted = f, append(trusted, pub...)
			}
			_, errs := importTogether(t, s, files, trusted)
			t.Logf("imports: %v; %v", errs[0], errs[1])
			for i := range files {
				if errs[i] != nil {
					if _, err := runImport(t, s, files[i], trusted); err != nil {
						t.Fatalf("re-run of import %d: %v", i, err)
					}
				}
			}
			keys := map[string]bool{}
			for _, b := range tc.bundles {
				for _, im := range b {
					keys[im.name] = true
				}
			}
			assertAuditOK(t, s, trusted, len(keys))
		})
	}
}
