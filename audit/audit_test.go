package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Close()
	os.Exit(code)
}

func TestAudit(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	ctx := context.Background()
	var want []bucket.Object
	bodies := map[string][]byte{}
	for i, key := range []string{"a/a-1.tgz", "b/b-1.tgz", "c/c-1.tgz", "d/d-1.tgz", "e/e-1.tgz", "f/f-1.tgz"} {
		body, sum := buckettest.Data(1000+i, uint64(i))
		if err := s.Put(ctx, key, bytes.NewReader(body), int64(len(body)), sum); err != nil {
			t.Fatal(err)
		}
		want = append(want, bucket.Object{Key: key, Size: int64(len(body)), SHA256: sum})
		bodies[key] = body
	}
	run := func(prefixes []string, deep bool) *Report {
		t.Helper()
		rep := &Report{Bucket: s.Bucket()}
		if err := objects(ctx, s, rep, compact(t, want), prefixes, deep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run([]string{"a/", "b/", "c/", "d/", "e/", "f/", "x/"}, true)
	if !rep.OK() || rep.Checked != len(want) || rep.Err() != nil {
		t.Fatalf("audit of an untouched bucket = %+v; want OK with %d checked", rep, len(want))
	}
	assertChecked(t, "untouched", rep, want, "ok deep", "ok deep", "ok deep", "ok deep", "ok deep", "ok deep")

	// Behind the Store's back:
	if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String("a/a-1.tgz")}); err != nil {
		t.Fatal(err)
	}
	name := s.Bucket()
	buckettest.RawPut(t, srv, name, "b/b-1.tgz", []byte("overwritten"), nil)                                    // new size, no sha256
	buckettest.RawPut(t, srv, name, "c/c-1.tgz", buckettest.Flip(bodies["c/c-1.tgz"], 0), nil)                  // same size, no sha256
	buckettest.RawPut(t, srv, name, "d/d-1.tgz", buckettest.Flip(bodies["d/d-1.tgz"], 5), sums(want[3].SHA256)) // forged: content changed, metadata kept
	replaceMetadata(t, srv, name, "e/e-1.tgz", sums(want[0].SHA256))                                            // content kept, metadata changed
	buckettest.RawPut(t, srv, name, "x/x-1.tgz", []byte("stray"), nil)
	buckettest.RawPut(t, srv, name, "outside/o-1.tgz", []byte("not managed"), nil)

	shallow := run([]string{"a/", "b/", "c/", "d/", "e/", "f/", "x/", "x/x"}, false)
	wantChanged := []Changed{
		{Want: want[1], Got: bucket.Object{Key: "b/b-1.tgz", Size: 11}, Change: ChangedSize},
		{Want: want[2], Got: bucket.Object{Key: "c/c-1.tgz", Size: want[2].Size}, Change: ChangedSHA256},
		{Want: want[4], Got: bucket.Object{Key: "e/e-1.tgz", Size: want[4].Size, SHA256: want[0].SHA256}, Change: ChangedSHA256},
	}
	assertReport(t, "shallow", shallow, []bucket.Object{want[0]}, wantChanged, []bucket.Object{{Key: "x/x-1.tgz", Size: 5}})
	assertChecked(t, "shallow", shallow, want, "missing shallow", "changed shallow", "changed shallow", "ok shallow", "changed shallow", "ok shallow")

	deep := run([]string{"a/", "b/", "c/", "d/", "e/", "f/", "x/"}, true)
	forged := bucket.Object{Key: "d/d-1.tgz", Size: want[3].Size, SHA256: buckettest.SHA(buckettest.Flip(bodies["d/d-1.tgz"], 5))}
	wantChanged = slices.Insert(wantChanged, 2, Changed{Want: want[3], Got: forged, Change: ChangedContent})
	assertReport(t, "deep", deep, []bucket.Object{want[0]}, wantChanged, []bucket.Object{{Key: "x/x-1.tgz", Size: 5}})
	// Only the objects whose size and recorded sha256 were right are
	// downloaded; d's data is forged.
	assertChecked(t, "deep", deep, want, "missing shallow", "changed shallow", "changed shallow", "changed deep", "changed shallow", "ok deep")
}

// assertChecked checks what rep.Objects says of each of want: "RESULT
// shallow|deep".
func assertChecked(t *testing.T, name string, rep *Report, want []bucket.Object, results ...string) {
	t.Helper()
	var got, wantChecked []Checked
	for c := range rep.Objects() {
		got = append(got, c)
	}
	for i, w := range want {
		result, check, _ := strings.Cut(results[i], " ")
		wantChecked = append(wantChecked, Checked{Object: w, Deep: check == "deep", Result: result})
	}
	if !slices.Equal(got, wantChecked) {
		t.Errorf("%s audit: Objects =\n%+v\nwant\n%+v", name, got, wantChecked)
	}
}

func assertReport(t *testing.T, name string, rep *Report, missing []bucket.Object, changed []Changed, unexpected []bucket.Object) {
	t.Helper()
	if rep.OK() {
		t.Errorf("%s audit: OK() on a tampered bucket", name)
	}
	var drift *DriftError
	if err := rep.Err(); err == nil || !errors.As(err, &drift) || drift.Missing != len(missing) || drift.Changed != len(changed) {
		t.Errorf("%s audit: Err() = %v, want a *DriftError counting %d missing, %d changed", name, err, len(missing), len(changed))
	}
	if !slices.Equal(rep.Missing, missing) {
		t.Errorf("%s audit: Missing = %+v, want %+v", name, rep.Missing, missing)
	}
	if !slices.Equal(rep.Changed, changed) {
		t.Errorf("%s audit: Changed =\n%+v\nwant\n%+v", name, rep.Changed, changed)
	}
	if !slices.Equal(rep.Unexpected, unexpected) {
		t.Errorf("%s audit: Unexpected = %+v, want %+v", name, rep.Unexpected, unexpected)
	}
}

func sums(sha string) map[string]string { return map[string]string{"sha256": sha} }

// replaceMetadata rewrites key's metadata in place with a server-side copy.
func replaceMetadata(t *testing.T, srv *miniotest.Server, bucket, key string, meta map[string]string) {
	t.Helper()
	_, err := srv.Client().CopyObject(context.Background(), &s3.CopyObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		CopySource:        aws.String(bucket + "/" + url.PathEscape(key)),
		Metadata:          meta,
		MetadataDirective: s3types.MetadataDirectiveReplace,
	})
	if err != nil {
		t.Fatalf("copying %s onto itself: %v", key, err)
	}
}

// An incomplete multipart upload under the prefix is drift, even under a
// key whose object is in place (MinIO lists uploads only by whole key).
func TestAuditReportsIncompleteUploads(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	ctx := context.Background()
	body, sum := buckettest.Data(100, 1)
	if err := s.Put(ctx, "ci/a/a-1.tgz", bytes.NewReader(body), 100, sum); err != nil {
		t.Fatal(err)
	}
	rec := record.Record{ID: "0123456789abcdef", Prefix: "ci/", Manifest: &manifest.Manifest{Entries: []manifest.Entry{
		{Path: "images/a/a-1.tgz", Size: 100, SHA256: sum, Image: &manifest.Image{Key: "a/a-1.tgz"}},
	}}}
	if _, err := srv.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.Bucket()), Key: aws.String("ci/a/a-1.tgz"),
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, s, newSet(t, rec), WithPrefix("ci/"))
	if err != nil {
		t.Fatal(err)
	}
	var drift *DriftError
	if len(rep.Incomplete) != 1 || rep.Incomplete[0].Key != "ci/a/a-1.tgz" || !errors.As(rep.Err(), &drift) || drift.Incomplete != 1 {
		t.Fatalf("report = %+v, err %v; want the incomplete upload as drift", rep, rep.Err())
	}
	if ev := rep.Evidence(); ev.Result != "drift" || len(ev.Incomplete) != 1 || ev.Incomplete[0].UploadID == "" {
		t.Errorf("evidence = %+v, want the upload listed and result drift", ev)
	}
}

// compact is want (in key order, one per key) as an audit expects it.
func compact(t testing.TB, want []bucket.Object) []record.Object {
	t.Helper()
	out := make([]record.Object, 0, len(want))
	for _, w := range want {
		o := record.Object{Key: w.Key, Size: w.Size}
		if _, err := hex.Decode(o.SHA256[:], []byte(w.SHA256)); err != nil {
			t.Fatalf("%s: sha256 %q: %v", w.Key, w.SHA256, err)
		}
		out = append(out, o)
	}
	return out
}

func newSet(t testing.TB, records ...record.Record) *record.Set {
	t.Helper()
	set, err := record.NewSet(records)
	if err != nil {
		t.Fatal(err)
	}
	return set
}
