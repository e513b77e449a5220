package bucket

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Upload is an incomplete multipart upload: invisible, but it takes space.
type Upload struct {
	Key       string
	ID        string
	Initiated time.Time
}

// AbortIncomplete aborts the unfinished multipart uploads of keys, left
// behind when a Put could not clean up (the server went away mid-upload, or
// the answer to its CreateMultipartUpload was lost). An importer calls this
// for every key it manages. It returns how many uploads it aborted; an
// upload it could not abort is a *LeftBehindError.
//
// It asks key by key: MinIO forgets uploads listed by a shorter prefix when
// it restarts, but finds them by their whole key.
func (s *Store) AbortIncomplete(ctx context.Context, keys ...string) (int, error) {
	n := 0
	for _, key := range keys {
		ups, err := s.Uploads(ctx, key)
		if err != nil {
			return n, err
		}
		for _, u := range ups {
			if u.Key != key {
				continue
			}
			if err := s.abort(ctx, key, u.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Uploads lists the incomplete multipart uploads whose keys start with
// prefix, in key order. MinIO lists nothing for a prefix that is not a
// whole key (a folder such as "ci/"), but everything for "": to find the
// uploads under a folder, list "" and filter.
func (s *Store) Uploads(ctx context.Context, prefix string) ([]Upload, error) {
	var ups []Upload
	pages := s3.NewListMultipartUploadsPaginator(s.api, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket), Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list uploads", prefix, err)
		}
		for _, u := range page.Uploads {
			ups = append(ups, Upload{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
	}
	return ups, nil
}
