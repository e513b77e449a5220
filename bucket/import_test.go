package bucket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// importBundle writes a bundle of n image entries of size bytes each.
func importBundle(t *testing.T, n, size int) ([]string, []keys.Public) {
	t.Helper()
	dir := t.TempDir()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
	priv, _ := keys.LoadPrivate(filepath.Join(dir, "k.key"))
	pub, _ := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	var payloads []bundle.Payload
	for i := range n {
		b, _ := data(size, uint64(i))
		key := fmt.Sprintf("img%d/img%d-1.%d.tgz", i, i, i)
		payloads = append(payloads, bundle.Payload{
			Path:  "images/" + key,
			Image: &manifest.Image{Name: fmt.Sprintf("img%d", i), Version: fmt.Sprintf("1.%d", i), Key: key},
			Open:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		})
	}
	res, err := bundle.Write(context.Background(), filepath.Join(dir, "b"), priv, payloads)
	if err != nil {
		t.Fatal(err)
	}
	return res.Files, []keys.Public{pub}
}

func runImport(t *testing.T, s *Store, files []string, trusted []keys.Public, opts ...ImportOption) (*ImportResult, error) {
	t.Helper()
	r, err := bundle.Open(files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	opts = append([]ImportOption{WithPrefix("ci/"), WithPutOptions(WithPartSize(5 << 20))}, opts...)
	return s.Import(context.Background(), r, opts...)
}

// MinIO dies after the first image is in; the import fails naming the
// endpoint, leaves no partial object and no record, and a re-run after the
// restart uploads only what is missing.
func TestImportResumesAfterServerDies(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "resume")
	s := openStore(t, srv, "resume", WithMaxAttempts(1))
	files, trusted := importBundle(t, 3, 12<<20)

	uploaded := 0
	_, err := runImport(t, s, files, trusted, WithImportEvents(func(e ImportEvent) {
		if e.Kind == Uploaded {
			uploaded++
			if uploaded == 1 {
				srv.Stop()
			}
		}
	}))
	if err == nil || !strings.Contains(err.Error(), srv.Endpoint) {
		t.Fatalf("import with MinIO gone: err = %v, want one naming %s", err, srv.Endpoint)
	}
	srv.Restart(t)
	objs, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("after the failed import the bucket holds %v, want only the first image", objs)
	}

	res, err := runImport(t, s, files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 2 || res.Skipped != 1 {
		t.Fatalf("resumed import: %d uploaded, %d skipped; want 2 and 1", res.Uploaded, res.Skipped)
	}
	records, err := s.Records(context.Background(), "ci/", trusted)
	if err != nil || len(records) != 1 {
		t.Fatalf("records = %v, %v", records, err)
	}
	want, prefixes := ExpectedFrom(records)
	rep, err := s.Audit(context.Background(), want, prefixes, WithDeep(true))
	if err != nil || !rep.OK() || rep.Checked != 3 {
		t.Fatalf("audit after resume: %+v, %v", rep, err)
	}
}

func TestImportRefusesOtherContentUnlessOverwrite(t *testing.T) {
	s := newBucket(t, minio.Get(t))
	files, trusted := importBundle(t, 2, 1000)
	if err := s.Put(context.Background(), "ci/img1/img1-1.1.tgz", strings.NewReader("other"), 5, sha([]byte("other"))); err != nil {
		t.Fatal(err)
	}
	_, err := runImport(t, s, files, trusted)
	if err == nil || !strings.Contains(err.Error(), "ci/img1/img1-1.1.tgz") || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("err = %v, want a refusal naming the key", err)
	}
	if _, ok, _ := s.Stat(context.Background(), "ci/img0/img0-1.0.tgz"); ok {
		t.Fatal("an object was uploaded although the import was refused")
	}
	res, err := runImport(t, s, files, trusted, WithOverwrite(true))
	if err != nil || res.Uploaded != 2 {
		t.Fatalf("overwrite: %+v, %v", res, err)
	}
}

func TestRecordsRejectUntrustedSigner(t *testing.T) {
	s := newBucket(t, minio.Get(t))
	files, trusted := importBundle(t, 1, 1000)
	if _, err := runImport(t, s, files, trusted); err != nil {
		t.Fatal(err)
	}
	_, otherTrusted := importBundle(t, 1, 10)
	_, err := s.Records(context.Background(), "ci/", otherTrusted)
	if !verify.IsFailure(err) || !strings.Contains(err.Error(), "does not match any trusted key") {
		t.Fatalf("err = %v, want a signature failure", err)
	}
}
