package miniotest

import (
	"cmp"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Client returns a plain S3 client for the server, for tests that need to
// look at or tamper with the bucket behind the code under test.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:                     cmp.Or(s.Region, "us-east-1"),
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// MakeBucket creates bucket name, failing t if it cannot.
//
// BucketAlreadyOwnedByYou counts as success: the SDK retries a create that a
// distributed set answered late (a node settling after a restart), and the
// retry then meets the bucket its first attempt made. Names are unique per
// test, so the bucket is this test's own.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	_, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		t.Fatalf("miniotest: creating bucket %s at %s: %v", name, s.Endpoint, err)
	}
}
