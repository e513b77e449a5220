package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Close()
	os.Exit(code)
}

// writeBundle writes a bundle of n image entries of size bytes each, the
// content chosen by seed.
func writeBundle(t *testing.T, n, size int, seed uint64) ([]string, []keys.Public) {
	t.Helper()
	var payloads []bundle.Payload
	for i := range n {
		b, _ := buckettest.Data(size, seed+uint64(i))
		payloads = append(payloads, imagePayload(fmt.Sprintf("img%d", i), fmt.Sprintf("1.%d", i), b))
	}
	return signedBundle(t, payloads)
}

// imagePayload is the image entry NAME/NAME-VERSION.tgz holding b.
func imagePayload(name, version string, b []byte) bundle.Payload {
	key := name + "/" + name + "-" + version + ".tgz"
	return bundle.Payload{
		Path:  manifest.ImagesFolder + key,
		Image: &manifest.Image{Name: name, Version: version, Key: key},
		Open:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
	}
}

// signedBundle writes payloads as a bundle signed by a new key.
func signedBundle(t *testing.T, payloads []bundle.Payload, opts ...bundle.Option) ([]string, []keys.Public) {
	t.Helper()
	return signedBundleIn(t, t.TempDir(), "b", payloads, opts...)
}

// signedBundleIn writes payloads as bundle NAME in dir, signed by the key
// dir/k (made on first use).
func signedBundleIn(t *testing.T, dir, name string, payloads []bundle.Payload, opts ...bundle.Option) ([]string, []keys.Public) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "k.key")); err != nil {
		if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
			t.Fatal(err)
		}
	}
	priv, _ := keys.LoadPrivate(filepath.Join(dir, "k.key"))
	pub, _ := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	res, err := bundle.Write(context.Background(), filepath.Join(dir, name), priv, payloads, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Files, []keys.Public{pub}
}

func runImport(t *testing.T, s *bucket.Store, files []string, trusted []keys.Public, opts ...Option) (*Result, error) {
	t.Helper()
	return runImportCtx(context.Background(), t, s, files, trusted, opts...)
}

func runImportCtx(ctx context.Context, t *testing.T, s *bucket.Store, files []string, trusted []keys.Public, opts ...Option) (*Result, error) {
	t.Helper()
	r, err := bundle.Open(files, trusted)
	if err != nil {
		t.Error(err)
		return nil, err
	}
	defer r.Close()
	opts = append([]Option{WithPrefix("ci/"), WithPutOptions(bucket.WithPartSize(5 << 20))}, opts...)
	return Run(ctx, s, r, opts...)
}

// MinIO dies after the first image is in; the import fails naming the
// endpoint, leaves no partial object and no record, and a re-run after the
// restart uploads only what is missing. (Two uploads are in flight, so the
// second image may complete while the server goes down: every object left
// must be whole, and the re-run must skip exactly those.)
func TestImportResumesAfterServerDies(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "resume")
	s := buckettest.Open(t, srv, "resume", bucket.WithMaxAttempts(1))
	files, trusted := writeBundle(t, 3, 12<<20, 0)

	uploaded := 0
	_, err := runImport(t, s, files, trusted, WithEvents(func(e Event) {
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
	if len(objs) < 1 || len(objs) > 2 {
		t.Fatalf("after the failed import the bucket holds %v, want the first image (and perhaps the one in flight)", objs)
	}
	for _, o := range objs {
		if strings.Contains(o.Key, ".airlock/") || o.Size != 12<<20 {
			t.Fatalf("after the failed import the bucket holds %+v: a record or a partial object", o)
		}
	}

	res, err := runImport(t, s, files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 3-len(objs) || res.Skipped != len(objs) {
		t.Fatalf("resumed import: %d uploaded, %d skipped; want %d and %d", res.Uploaded, res.Skipped, 3-len(objs), len(objs))
	}
	records, err := record.Scan(context.Background(), s, "ci/", trusted)
	if err != nil || records.Len() != 1 {
		t.Fatalf("records = %v, %v", records, err)
	}
	rep, err := audit.Run(context.Background(), s, records, audit.WithDeep(true), audit.WithPrefix("ci/"))
	if err != nil || !rep.OK() || rep.Checked != 3 {
		t.Fatalf("audit after resume: %+v, %v", rep, err)
	}
}

func TestImportRefusesOtherContentUnlessOverwrite(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	files, trusted := writeBundle(t, 2, 1000, 0)
	if err := s.Put(context.Background(), "ci/img1/img1-1.1.tgz", strings.NewReader("other"), 5, buckettest.SHA([]byte("other"))); err != nil {
		t.Fatal(err)
	}
	_, err := runImport(t, s, files, trusted)
	var conflict *ConflictError
	if !errors.As(err, &conflict) || len(conflict.Conflicts) != 1 || conflict.Conflicts[0].Key != "ci/img1/img1-1.1.tgz" ||
		conflict.Meanwhile() || !strings.Contains(err.Error(), "ci/img1/img1-1.1.tgz") {
		t.Fatalf("err = %v, want a *ConflictError naming the key", err)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("library error %q names a CLI flag", err)
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
	s := buckettest.New(t, minio.Get(t))
	files, trusted := writeBundle(t, 1, 1000, 0)
	if _, err := runImport(t, s, files, trusted); err != nil {
		t.Fatal(err)
	}
	_, otherTrusted := writeBundle(t, 1, 10, 0)
	_, err := record.Read(context.Background(), s, "ci/", otherTrusted)
	if err == nil || !strings.Contains(err.Error(), "does not match any trusted key") {
		t.Fatalf("err = %v, want a signature failure", err)
	}
}
