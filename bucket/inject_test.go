package bucket

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var errInjected = errors.New("injected failure")

// flakyAPI is a real S3 client with chosen calls failing.
type flakyAPI struct {
	s3API
	failPart     int32 // UploadPart of this part number fails
	failComplete bool
	aborts       atomic.Int32
}

func (f *flakyAPI) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if aws.ToInt32(in.PartNumber) == f.failPart {
		return nil, errInjected
	}
	return f.s3API.UploadPart(ctx, in, o...)
}

func (f *flakyAPI) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if f.failComplete {
		return nil, errInjected
	}
	return f.s3API.CompleteMultipartUpload(ctx, in, o...)
}

func (f *flakyAPI) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborts.Add(1)
	return f.s3API.AbortMultipartUpload(ctx, in, o...)
}

func withAPI(wrap func(s3API) s3API) Option {
	return func(o *openOptions) { o.wrap = wrap }
}

// When the server refuses a part or the completion, the upload is aborted
// and nothing is visible.
func TestPutServerFailureAborts(t *testing.T) {
	srv := minio.Get(t)
	tests := []struct {
		name  string
		flaky *flakyAPI
	}{
		{"upload part 3 fails", &flakyAPI{failPart: 3}},
		{"complete fails", &flakyAPI{failComplete: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flaky := tc.flaky
			s := newBucket(t, srv, withAPI(func(api s3API) s3API { flaky.s3API = api; return flaky }))
			body, sum := data(21*MiB, 3)
			err := s.Put(context.Background(), "k/k-1.tgz", bytes.NewReader(body), int64(len(body)), sum, WithPartSize(5*MiB))
			if !errors.Is(err, errInjected) {
				t.Fatalf("Put = %v, want the injected failure", err)
			}
			if !strings.Contains(err.Error(), "k/k-1.tgz") {
				t.Errorf("error %q does not name the key", err)
			}
			if flaky.aborts.Load() == 0 {
				t.Error("AbortMultipartUpload was never called")
			}
			assertAbsent(t, srv, s, "k/k-1.tgz")
		})
	}
}
