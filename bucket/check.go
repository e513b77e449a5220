package bucket

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Check makes sure the bucket exists and the credentials may use it, before
// any upload. Its errors are *Error with Kind ErrCredentials, ErrNoSuchBucket,
// ErrAccessDenied, ErrUnreachable or ErrTLS.
func (s *Store) Check(ctx context.Context) error {
	if _, err := s.creds.Retrieve(ctx); err != nil {
		return &Error{Op: "check", Bucket: s.bucket, Endpoint: s.endpoint, Kind: ErrCredentials, Err: err}
	}
	_, err := s.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	err = s.fail("check", "", err)
	if errors.Is(err, ErrAccessDenied) {
		// A HEAD answer has no body, so a bad key and a missing permission
		// both read as 403; a listing says which.
		return s.explainForbidden(ctx, err)
	}
	return err
}

// explainForbidden asks for one key to learn why HeadBucket was refused.
func (s *Store) explainForbidden(ctx context.Context, headErr error) error {
	_, err := s.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1),
	})
	if err == nil {
		return nil
	}
	if listErr := s.fail("check", "", err); errors.Is(listErr, ErrCredentials) || errors.Is(listErr, ErrNoSuchBucket) {
		return listErr
	}
	return headErr
}
