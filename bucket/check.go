package bucket

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Check makes sure the bucket exists and the credentials may use it, before
// any upload. Its errors are *Error with Kind ErrCredentials, ErrNoSuchBucket,
// ErrAccessDenied, ErrUnreachable or ErrTLS.
func (s *Store) Check(ctx context.Context) error {
	if _, err := s.creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c := s.credSources
		if c.static {
			return &Error{Op: "check", Bucket: s.bucket, Endpoint: s.endpoint, Kind: ErrCredentials, Err: err}
		}
		return &CredentialsError{Bucket: s.bucket, Profile: c.profile, Files: c.files, EC2Metadata: c.ec2Metadata, Err: err}
	}
	_, err := s.api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	_, status := apiCode(err)
	err = s.fail("check", "", err)
	if status == http.StatusBadRequest {
		// A HEAD answer has no body to say what was bad (a wrong region
		// reads as a bare 400); a listing's answer says.
		return s.explain(ctx, err, ErrWrongRegion)
	}
	if errors.Is(err, ErrAccessDenied) {
		// A HEAD answer has no body, so a bad key and a missing permission
		// both read as 403; a listing says which.
		return s.explainForbidden(ctx, err)
	}
	return err
}

// explainForbidden asks for one key to learn why HeadBucket was refused.
func (s *Store) explainForbidden(ctx context.Context, headErr error) error {
	return s.explain(ctx, headErr, ErrCredentials, ErrNoSuchBucket)
}

// explain lists one key to learn why HeadBucket failed, returning the
// listing's error when it is one of kinds, else headErr.
func (s *Store) explain(ctx context.Context, headErr error, kinds ...error) error {
	_, err := s.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1),
	})
	if err == nil {
		return nil
	}
	listErr := s.fail("check", "", err)
	for _, k := range kinds {
		if errors.Is(listErr, k) {
			return listErr
		}
	}
	return headErr
}
