package bucket

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3API is the part of the S3 client the Store uses; tests wrap it to
// inject failures.
type s3API interface {
	transfermanager.S3APIClient
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	ListParts(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error)
}

// Store is one bucket on one S3 endpoint. It is safe for concurrent use.
type Store struct {
	api      s3API
	bucket   string
	endpoint string
	creds    aws.CredentialsProvider
	checksum aws.RequestChecksumCalculation
	region   string // as configured; empty when the default was used
	path     bool   // path-style addressing
	// signRegion is the region requests are signed for.
	signRegion string
	// credSources says where credentials were looked for, for the
	// error when none were found.
	credSources credSources
}

// Object is an object in the bucket, or one expected there.
type Object struct {
	Key    string
	Size   int64
	SHA256 string // lowercase hex, from x-amz-meta-sha256; empty from List or when not recorded
	ETag   string `json:"-"` // from Stat only: names this version of the object for IfUnchanged
}

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Endpoint returns the endpoint requests go to.
func (s *Store) Endpoint() string { return s.endpoint }

// Region returns the region requests are signed for when one was
// configured (Config, the environment or the profile); empty when the
// default, us-east-1, was used.
func (s *Store) Region() string { return s.region }

// PathStyle reports whether requests use path-style addressing.
func (s *Store) PathStyle() bool { return s.path }

// fail wraps err from operation op on key ("" for the bucket).
func (s *Store) fail(op, key string, err error) error {
	return &Error{
		Op: op, Bucket: s.bucket, Key: key, Endpoint: s.endpoint,
		Kind: kind(err, key == "", s.signRegion), Err: err,
	}
}
