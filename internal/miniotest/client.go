package miniotest

import (
	"cmp"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	_, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatalf("miniotest: creating bucket %s at %s: %v", name, s.Endpoint, err)
	}
}
