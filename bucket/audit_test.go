package bucket

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/airlockhq/airlock/internal/miniotest"
)

func TestAudit(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	var want []Object
	bodies := map[string][]byte{}
	for i, key := range []string{"a/a-1.tgz", "b/b-1.tgz", "c/c-1.tgz", "d/d-1.tgz", "e/e-1.tgz", "f/f-1.tgz"} {
		body, sum := data(1000+i, uint64(i))
		if err := s.Put(ctx, key, bytes.NewReader(body), int64(len(body)), sum); err != nil {
			t.Fatal(err)
		}
		want = append(want, Object{Key: key, Size: int64(len(body)), SHA256: sum})
		bodies[key] = body
	}
	rep, err := s.Audit(ctx, want, []string{"a/", "b/", "c/", "d/", "e/", "f/", "x/"}, WithDeep(true))
	if err != nil || !rep.OK() || rep.Checked != len(want) {
		t.Fatalf("Audit of an untouched bucket = %+v, %v; want OK with %d checked", rep, err, len(want))
	}

	// Behind the Store's back:
	if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("a/a-1.tgz")}); err != nil {
		t.Fatal(err)
	}
	rawPut(t, srv, s.bucket, "b/b-1.tgz", []byte("overwritten"), nil)                         // new size, no sha256
	rawPut(t, srv, s.bucket, "c/c-1.tgz", flip(bodies["c/c-1.tgz"], 0), nil)                  // same size, no sha256
	rawPut(t, srv, s.bucket, "d/d-1.tgz", flip(bodies["d/d-1.tgz"], 5), sums(want[3].SHA256)) // forged: content changed, metadata kept
	replaceMetadata(t, srv, s.bucket, "e/e-1.tgz", sums(want[0].SHA256))                      // content kept, metadata changed
	rawPut(t, srv, s.bucket, "x/x-1.tgz", []byte("stray"), nil)
	rawPut(t, srv, s.bucket, "outside/o-1.tgz", []byte("not managed"), nil)

	shallow, err := s.Audit(ctx, want, []string{"a/", "b/", "c/", "d/", "e/", "f/", "x/", "x/x"})
	if err != nil {
		t.Fatal(err)
	}
	wantChanged := []Changed{
		{Want: want[1], Got: Object{Key: "b/b-1.tgz", Size: 11}, Change: ChangedSize},
		{Want: want[2], Got: Object{Key: "c/c-1.tgz", Size: want[2].Size}, Change: ChangedSHA256},
		{Want: want[4], Got: Object{Key: "e/e-1.tgz", Size: want[4].Size, SHA256: want[0].SHA256}, Change: ChangedSHA256},
	}
	assertReport(t, "shallow", shallow, []Object{want[0]}, wantChanged, []Object{{Key: "x/x-1.tgz", Size: 5}})

	deep, err := s.Audit(ctx, want, []string{"a/", "b/", "c/", "d/", "e/", "f/", "x/"}, WithDeep(true))
	if err != nil {
		t.Fatal(err)
	}
	forged := Object{Key: "d/d-1.tgz", Size: want[3].Size, SHA256: sha(flip(bodies["d/d-1.tgz"], 5))}
	wantChanged = slices.Insert(wantChanged, 2, Changed{Want: want[3], Got: forged, Change: ChangedContent})
	assertReport(t, "deep", deep, []Object{want[0]}, wantChanged, []Object{{Key: "x/x-1.tgz", Size: 5}})
}

func assertReport(t *testing.T, name string, rep *Report, missing []Object, changed []Changed, unexpected []Object) {
	t.Helper()
	if rep.OK() {
		t.Errorf("%s audit: OK() on a tampered bucket", name)
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
