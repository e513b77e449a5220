package importer

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

// failStatePuts refuses every PUT of a channel state while on is set: the
// import dies between its objects and the state write.
type failStatePuts struct {
	rt http.RoundTripper
	on *bool
}

func (f failStatePuts) RoundTrip(req *http.Request) (*http.Response, error) {
	if *f.on && req.Method == http.MethodPut && strings.Contains(req.URL.Path, freshness.Folder) {
		return nil, errors.New("injected: connection lost before the channel state was written")
	}
	return f.rt.RoundTrip(req)
}

// A crash between the last object and the state write leaves the objects
// and the record in place and the state at the older bundle (so nothing
// claims more than is there); importing the bundle again finishes the
// job: nothing is uploaded, the state moves.
func TestImportCrashBeforeTheStateWrite(t *testing.T) {
	on := true
	srv := minio.Get(t)
	name := buckettest.Name(t)
	srv.MakeBucket(t, name)
	s := buckettest.Open(t, srv, name, bucket.WithMaxAttempts(1),
		bucket.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper { return failStatePuts{rt, &on} }))
	b, _ := buckettest.Data(1000, 7)
	created := time.Now().UTC().Truncate(time.Second)
	f := &manifest.Freshness{Channel: "prod", Sequence: 4, Expires: created.Add(time.Hour)}
	files, trusted := signedBundle(t, []bundle.Payload{imagePayload("app", "1.0", b)}, bundle.WithCreated(created), bundle.WithFreshness(f))

	if _, err := runImport(t, s, files, trusted); err == nil || !strings.Contains(err.Error(), "import it again") {
		t.Fatalf("import with the state write failing: %v, want an error saying to import again", err)
	}
	if _, ok, _ := s.Stat(t.Context(), "ci/app/app-1.0.tgz"); !ok {
		t.Fatal("the object is not in place")
	}
	if recs, err := record.Read(t.Context(), s, "ci/", trusted); err != nil || len(recs) != 1 {
		t.Fatalf("records = %v, %v", recs, err)
	}
	if st, _, err := freshness.ReadState(t.Context(), s, "ci/", trusted[0].ID, "prod"); err != nil || st != nil {
		t.Fatalf("state after the crash = %+v, %v; want none", st, err)
	}

	on = false
	res, err := runImport(t, s, files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 0 || res.Freshness.Status != freshness.Fresh {
		t.Fatalf("re-run: %+v", res)
	}
	st, _, err := freshness.ReadState(t.Context(), s, "ci/", trusted[0].ID, "prod")
	if err != nil || st == nil || st.Sequence != 4 {
		t.Fatalf("state after the re-run = %+v, %v", st, err)
	}
}

// A replayed older bundle is refused before anything is uploaded.
func TestImportRefusesARollbackBeforeUploading(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	created := time.Now().UTC().Truncate(time.Second)
	// One key signs both bundles.
	dir := t.TempDir()
	newer := []bundle.Payload{imagePayload("app", "2.0", []byte("two"))}
	older := []bundle.Payload{imagePayload("old", "1.0", []byte("one"))}
	f2 := &manifest.Freshness{Channel: "prod", Sequence: 2, Expires: created.Add(time.Hour)}
	f1 := &manifest.Freshness{Channel: "prod", Sequence: 1, Expires: created.Add(time.Hour)}
	files2, trusted := signedBundleIn(t, dir, "two", newer, bundle.WithCreated(created), bundle.WithFreshness(f2))
	files1, _ := signedBundleIn(t, dir, "one", older, bundle.WithCreated(created), bundle.WithFreshness(f1))
	if _, err := runImport(t, s, files2, trusted); err != nil {
		t.Fatal(err)
	}
	_, err := runImport(t, s, files1, trusted)
	var fe *freshness.Error
	if !errors.As(err, &fe) || fe.Kind != freshness.Rollback {
		t.Fatalf("older bundle: %v, want a rollback *freshness.Error", err)
	}
	if _, ok, _ := s.Stat(t.Context(), "ci/old/old-1.0.tgz"); ok {
		t.Fatal("the refused bundle's object was uploaded")
	}
	if _, err := runImport(t, s, files1, trusted, WithAllow(freshness.AllowRollback)); err != nil {
		t.Fatalf("--allow-rollback: %v", err)
	}
	st, _, _ := freshness.ReadState(t.Context(), s, "ci/", trusted[0].ID, "prod")
	if st.Sequence != 1 || len(st.History) != 2 || len(st.History[0].Override) != 1 {
		t.Fatalf("state after the rollback: %+v", st)
	}
}
