package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/internal/hexdigits"
)

// abortTimeout bounds the clean-up of a failed multipart upload, which runs
// even when the caller's context is already cancelled.
const abortTimeout = 10 * time.Second

// ErrBodySize is the kind of a Put whose body was shorter or longer than
// the size it was given.
var ErrBodySize = errors.New("body size differs from the declared size")

// Put uploads size bytes of body under key and records sha256hex, the
// expected SHA-256 in lowercase hex, on the object (x-amz-meta-sha256).
//
// Put does not hash: body checks its own data and returns an error in place
// of io.EOF when it is not what was expected (a verify.Reader, a bundle
// entry). Put counts the bytes. The object becomes visible only when body
// ended with io.EOF after exactly size bytes; any read error, a short or a
// long body aborts the upload before completion, so nothing appears under
// key (an existing object stays as it was). The body's own error is the
// cause of the returned *Error.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, sha256hex string, opts ...PutOption) error {
	o, err := newPutOptions(size, opts)
	if err == nil && !hexdigits.IsLower(sha256hex, 64) {
		err = fmt.Errorf("expected sha256 %q is not 64 lowercase hex digits", sha256hex)
	}
	if err != nil {
		return &Error{Op: "put", Bucket: s.bucket, Key: key, Endpoint: s.endpoint, Err: err}
	}
	src := &sizedBody{r: body, size: size}
	_, err = s.uploader(o).UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          src,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(o.contentType),
		Metadata:      map[string]string{metaSHA256: sha256hex},
		IfNoneMatch:   nonEmpty(o.ifNoneMatch),
		IfMatch:       nonEmpty(o.ifMatch),
	})
	if err != nil {
		return s.putFailed(key, src, err)
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sizedBody passes body through and fails, in place of io.EOF, when it did
// not yield exactly size bytes. It reads body up to body's own io.EOF, so an
// error body reports after its last byte still fails the upload.
type sizedBody struct {
	r    io.Reader
	size int64
	n    int64
	err  error // the first error or io.EOF, returned from then on
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case b.n > b.size:
		err = fmt.Errorf("%w: body is longer than %d bytes", ErrBodySize, b.size)
	case err == io.EOF && b.n < b.size:
		err = fmt.Errorf("%w: body ends after %d of %d bytes", ErrBodySize, b.n, b.size)
	}
	b.err = err
	return n, err
}

// failure is the body's own error, if it failed.
func (b *sizedBody) failure() error {
	if b.err == io.EOF {
		return nil
	}
	return b.err
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
func (s *Store) putFailed(key string, src *sizedBody, err error) error {
	var mpu transfermanager.MultipartUploadError
	var abortErr error
	if errors.As(err, &mpu) {
		ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
		abortErr = s.abort(ctx, key, mpu.UploadID())
		cancel()
	}
	if bodyErr := src.failure(); bodyErr != nil {
		err = bodyErr
	}
	if abortErr != nil {
		return errors.Join(s.fail("put", key, err), abortErr)
	}
	return s.fail("put", key, err)
}

// abort removes the multipart upload id of key. An upload that is already
// gone counts as removed.
func (s *Store) abort(ctx context.Context, key, id string) error {
	_, err := s.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: aws.String(id),
	})
	if code, _ := apiCode(err); err == nil || code == "NoSuchUpload" {
		return nil
	}
	return &LeftBehindError{Key: key, UploadID: id, Err: s.fail("abort", key, err)}
}

// LeftBehindError is an incomplete multipart upload that could not be
// aborted. It is invisible but takes space until AbortIncomplete removes it.
type LeftBehindError struct {
	Key      string
	UploadID string // empty when not known (the uploads of Key could not be listed)
	Err      error
}

func (e *LeftBehindError) Error() string {
	if e.UploadID == "" {
		return fmt.Sprintf("incomplete uploads of %s may be left behind (not visible, but they take space): %v", e.Key, e.Err)
	}
	return fmt.Sprintf("incomplete upload %s of %s left behind (not visible, but it takes space): %v", e.UploadID, e.Key, e.Err)
}

func (e *LeftBehindError) Unwrap() error { return e.Err }

// progress turns the transfer manager's per-part running totals, which come
// from several goroutines, into ordered increments.
type progress struct {
	mu   sync.Mutex
	done int64
	fn   func(int64)
}

func (p *progress) OnObjectBytesTransferred(_ context.Context, e *transfermanager.ObjectBytesTransferredEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.BytesTransferred > p.done {
		p.fn(e.BytesTransferred - p.done)
		p.done = e.BytesTransferred
	}
}
