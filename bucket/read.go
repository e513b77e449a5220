package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// metaSHA256 is the user metadata key (x-amz-meta-sha256) holding the
// object's SHA-256 in lowercase hex.
const metaSHA256 = "sha256"

// Stat returns the object under key with its recorded SHA-256. ok is false,
// with a nil error, when there is no such object.
func (s *Store) Stat(ctx context.Context, key string) (obj Object, ok bool, err error) {
	out, err := s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if err = s.fail("stat", key, err); errors.Is(err, ErrNotFound) {
			return Object{}, false, nil
		}
		return Object{}, false, err
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), SHA256: out.Metadata[metaSHA256], ETag: aws.ToString(out.ETag)}, true, nil
}

// Open streams the object under key. A missing object gives an error
// matching ErrNotFound. The caller closes the reader.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	return out.Body, nil
}

// OpenRange streams n bytes of the object under key from offset off, only
// while the object is still the one with etag (If-Match): an object
// replaced meanwhile gives an error matching ErrPrecondition. The caller
// closes the reader.
func (s *Store) OpenRange(ctx context.Context, key string, off, n int64, etag string) (io.ReadCloser, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)), IfMatch: aws.String(etag)})
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	if got := aws.ToInt64(out.ContentLength); got != n {
		out.Body.Close()
		return nil, fmt.Errorf("s3 get %s bytes %d-%d: the server sent %d bytes, want %d", key, off, off+n-1, got, n)
	}
	return out.Body, nil
}

// List returns the objects whose keys start with prefix, in key order,
// without their SHA-256 (a listing does not carry metadata; use Stat) and
// ETag. It holds them all; Walk does not.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var objs []Object
	err := s.Walk(ctx, prefix, func(o Object) error {
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// Walk calls fn with each object whose key starts with prefix, as List
// returns them (no SHA-256, no ETag), one listing page at a time: its
// memory does not grow with the number of objects. S3 lists keys in UTF-8
// binary order, which is the order of Go strings; a directory bucket (S3
// Express One Zone) lists them unordered, so a caller that needs an order
// checks it. An error from fn stops the walk and is returned as is.
func (s *Store) Walk(ctx context.Context, prefix string, fn func(Object) error) error {
	pages := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list", prefix, err)
		}
		for _, o := range page.Contents {
			if err := fn(Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)}); err != nil {
				return err
			}
		}
	}
	return nil
}
