package bucket

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AbortAbandoned aborts the uploads of a key that hold no part (a Put that
// never learnt its upload's id) and leaves one with parts in, someone's
// work in progress.
func TestAbortAbandonedLeavesWorkInProgress(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	const key = "img/img-1.tgz"
	c := srv.Client()
	create := func() string {
		out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UploadId)
	}
	empty, busy := create(), create()
	part, _ := data(5*MiB, 1)
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key), UploadId: aws.String(busy),
		PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.AbortAbandoned(ctx, key)
	if err != nil || n != 1 {
		t.Fatalf("AbortAbandoned = %d, %v; want 1 upload aborted", n, err)
	}
	ups, err := s.Uploads(ctx, key)
	if err != nil || len(ups) != 1 || ups[0].ID != busy {
		t.Fatalf("uploads left = %v, %v; want only the one with a part (%s), not %s", ups, err, busy, empty)
	}
}
