package bucket

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// AbortIncomplete aborts the unfinished multipart uploads of keys, left
// behind when a Put could not clean up (the server went away mid-upload).
// They are invisible but take space; an importer calls this for the keys it
// is about to upload. It returns how many uploads it aborted.
//
// It asks key by key: MinIO forgets uploads listed by a shorter prefix when
// it restarts, but finds them by their whole key.
func (s *Store) AbortIncomplete(ctx context.Context, keys ...string) (int, error) {
	n := 0
	for _, key := range keys {
		ids, err := s.uploadsOf(ctx, key)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := s.abort(key, id); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// uploadsOf returns the ids of unfinished multipart uploads of key.
func (s *Store) uploadsOf(ctx context.Context, key string) ([]string, error) {
	var ids []string
	pages := s3.NewListMultipartUploadsPaginator(s.api, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket), Prefix: aws.String(key),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list uploads", key, err)
		}
		for _, u := range page.Uploads {
			if aws.ToString(u.Key) == key {
				ids = append(ids, aws.ToString(u.UploadId))
			}
		}
	}
	return ids, nil
}
