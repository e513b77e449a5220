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

// AbortAbandoned aborts the unfinished multipart uploads of key that hold
// no part: what a Put leaves when the answer to its CreateMultipartUpload
// was lost (it never learnt the upload's id, so it sent no part and could
// not abort it). An upload with parts in is someone's work in progress,
// such as another import of the same key, and is left alone (a Put aborts
// its own uploads with parts itself; AbortIncomplete removes the rest once
// the key's object is in place). It returns how many uploads it aborted;
// an upload it could not abort is a *LeftBehindError.
func (s *Store) AbortAbandoned(ctx context.Context, key string) (int, error) {
	ups, err := s.Uploads(ctx, key)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range ups {
		if u.Key != key {
			continue
		}
		exists, hasParts, err := s.uploadParts(ctx, u)
		if err != nil {
			return n, &LeftBehindError{Key: key, UploadID: u.ID, Err: err}
		}
		if !exists || hasParts { // gone meanwhile, or another writer's work
			continue
		}
		if err := s.abort(ctx, key, u.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// uploadParts asks the server about upload u itself: whether it still
// exists (a listing may show one that is gone, see Uploads) and whether
// it holds a part.
func (s *Store) uploadParts(ctx context.Context, u Upload) (exists, hasParts bool, err error) {
	parts, err := s.api.ListParts(ctx, &s3.ListPartsInput{
		Bucket: aws.String(s.bucket), Key: aws.String(u.Key), UploadId: aws.String(u.ID), MaxParts: aws.Int32(1),
	})
	if code, _ := apiCode(err); code == "NoSuchUpload" {
		return false, false, nil
	}
	if err != nil {
		return false, false, s.fail("list uploads", u.Key, err)
	}
	return true, len(parts.Parts) > 0, nil
}

// UploadExists reports whether upload u is still there, asking for it by
// its id: a MinIO node that was down lists by key uploads aborted
// meanwhile, which ListParts then does not know.
func (s *Store) UploadExists(ctx context.Context, u Upload) (bool, error) {
	exists, _, err := s.uploadParts(ctx, u)
	return exists, err
}

// Uploads lists the incomplete multipart uploads whose keys start with
// prefix, in key order. On MinIO only a listing by a whole key is to be
// trusted: it lists nothing for a prefix that is not a whole key (a folder
// such as "ci/"), and for "" it lists every upload but also some that are
// gone (aborted while a part was being written). To find the uploads under
// a folder, list "" for the keys, then list each key by itself.
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
