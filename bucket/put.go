package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// abortTimeout bounds the clean-up of a failed multipart upload, which runs
// even when the caller's context is already cancelled.
const abortTimeout = 30 * time.Second

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Put uploads size bytes of body under key. sha256hex is the expected
// SHA-256 in lowercase hex (from the signed manifest). The object becomes
// visible only complete and verified: when body fails, ends early or hashes
// differently, the upload is aborted before completion and nothing appears
// under key (an existing object stays as it was). A verification failure
// is a *verify.Error inside the returned *Error.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, sha256hex string, opts ...PutOption) error {
	o, err := newPutOptions(size, opts)
	if err == nil && !sha256Hex.MatchString(sha256hex) {
		err = fmt.Errorf("expected sha256 %q is not 64 lowercase hex digits", sha256hex)
	}
	if err != nil {
		return &Error{Op: "put", Bucket: s.bucket, Key: key, Endpoint: s.endpoint, Err: err}
	}
	src := newCheckedBody(body, key, size, sha256hex, o.selfChecked)
	_, err = s.uploader(o).UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          src,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(o.contentType),
		Metadata:      map[string]string{metaSHA256: sha256hex},
	})
	if err != nil {
		return s.putFailed(key, src, err)
	}
	return nil
}

// uploader configures the transfer manager for one Put.
func (s *Store) uploader(o putOptions) *transfermanager.Client {
	return transfermanager.New(s.api, func(t *transfermanager.Options) {
		t.PartSizeBytes = o.partSize
		t.MultipartUploadThreshold = o.partSize
		t.Concurrency = o.concurrency
		t.FailTimeout = abortTimeout
		t.RequestChecksumCalculation = s.checksum
		if o.progress != nil {
			t.ObjectProgressListeners.Register(&progress{fn: o.progress})
		}
	})
}

// putFailed reports a failed upload. The body's own error, if any, is the
// cause. A multipart upload is aborted again here: the transfer manager
// already tried, but its error does not say whether that worked.
func (s *Store) putFailed(key string, src *checkedBody, err error) error {
	var mpu transfermanager.MultipartUploadError
	var abortErr error
	if errors.As(err, &mpu) {
		abortErr = s.abort(key, mpu.UploadID())
	}
	if src.err != nil {
		err = src.err
	}
	if abortErr != nil {
		return errors.Join(s.fail("put", key, err), abortErr)
	}
	return s.fail("put", key, err)
}

// abort removes the multipart upload id of key. An upload that is already
// gone counts as removed.
func (s *Store) abort(key, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	_, err := s.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: aws.String(id),
	})
	if code, _ := apiCode(err); err == nil || code == "NoSuchUpload" {
		return nil
	}
	return fmt.Errorf("incomplete upload %s of %s left behind (not visible; AbortIncomplete removes it): %w", id, key, s.fail("abort", key, err))
}

// progress turns the transfer manager's per-part events, which come from
// several goroutines, into ordered calls of a callback.
type progress struct {
	mu   sync.Mutex
	done int64
	fn   func(int64)
}

func (p *progress) OnObjectBytesTransferred(_ context.Context, e *transfermanager.ObjectBytesTransferredEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.BytesTransferred > p.done {
		p.done = e.BytesTransferred
		p.fn(p.done)
	}
}
