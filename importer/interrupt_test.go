package importer

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/internal/buckettest"
)

// An import interrupted mid-upload leaves no object and no incomplete
// multipart upload.
func TestInterruptedImportLeavesNoUploads(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	files, trusted := writeBundle(t, 2, 30<<20, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := runImportCtx(ctx, t, s, files, trusted, WithEvents(func(e Event) {
		if e.Kind == Progress {
			cancel() // a part of the first image is in
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import = %v, want context.Canceled", err)
	}
	if objs, err := s.List(context.Background(), ""); err != nil || len(objs) != 0 {
		t.Errorf("after the interrupt the bucket holds %v (%v), want nothing", objs, err)
	}
	if ups := buckettest.Uploads(t, srv, s.Bucket(), "ci/img0/img0-1.0.tgz", "ci/img1/img1-1.1.tgz"); len(ups) > 0 {
		t.Errorf("incomplete uploads left after the interrupt: %v", ups)
	}
}

// An incomplete upload under a key whose object is already in place (left
// by an interrupted run, or a CreateMultipartUpload whose answer was lost)
// is aborted by the next import, which skips the key.
func TestImportAbortsUploadsUnderEveryKey(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	files, trusted := writeBundle(t, 2, 1000, 0)
	if _, err := runImport(t, s, files, trusted); err != nil {
		t.Fatal(err)
	}
	const key = "ci/img0/img0-1.0.tgz"
	if _, err := srv.Client().CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.Bucket()), Key: aws.String(key),
	}); err != nil {
		t.Fatal(err)
	}
	res, err := runImport(t, s, files, trusted)
	if err != nil || res.Skipped != 2 {
		t.Fatalf("re-run = %+v, %v; want both images skipped", res, err)
	}
	if ups := buckettest.Uploads(t, srv, s.Bucket(), key); len(ups) > 0 {
		t.Errorf("incomplete upload under a skipped key survived the re-run: %v", ups)
	}
}
