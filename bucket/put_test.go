package bucket

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/verify"
)

func TestPutRoundTrip(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	tests := []struct {
		name, key string
		size      int
		parts     int // multipart parts expected in the ETag suffix; 0 for a single PutObject
	}{
		{"multipart", "ubuntu/ubuntu-22.04.tgz", 40 * MiB, 8},
		{"small", "alpine/alpine-3.20.tgz", 1000, 0},
		{"empty", "empty/empty-1.tgz", 0, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, sum := data(tc.size, uint64(i))
			var total int64
			err := s.Put(ctx, tc.key, bytes.NewReader(body), int64(tc.size), sum,
				WithPartSize(5*MiB), WithProgress(func(n int64) { total += n }))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if total != int64(tc.size) {
				t.Errorf("progress increments add up to %d, want %d", total, tc.size)
			}
			assertStored(t, srv, s, tc.key, body, sum, tc.parts)
		})
	}
	listed, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []Object{{Key: "alpine/alpine-3.20.tgz", Size: 1000}, {Key: "empty/empty-1.tgz"}, {Key: "ubuntu/ubuntu-22.04.tgz", Size: 40 * MiB}}
	if !slices.Equal(listed, want) {
		t.Errorf("List = %+v, want %+v", listed, want)
	}
}

// assertStored checks key holds body with its sha256 and content type recorded.
func assertStored(t *testing.T, srv *miniotest.Server, s *Store, key string, body []byte, sum string, parts int) {
	t.Helper()
	ctx := context.Background()
	obj, ok, err := s.Stat(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Stat(%s) = %v, %v", key, ok, err)
	}
	if want := (Object{Key: key, Size: int64(len(body)), SHA256: sum, ETag: obj.ETag}); obj != want || obj.ETag == "" {
		t.Errorf("Stat = %+v, want %+v", obj, want)
	}
	head, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("raw HeadObject: %v", err)
	}
	if ct := aws.ToString(head.ContentType); ct != "application/gzip" {
		t.Errorf("Content-Type = %q, want application/gzip", ct)
	}
	if etag, suffix := aws.ToString(head.ETag), partsSuffix(parts); !strings.HasSuffix(etag, suffix) {
		t.Errorf("ETag %s does not end in %q: wrong upload path", etag, suffix)
	}
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("Open read %d bytes (err %v), want the %d bytes put", len(got), err, len(body))
	}
}

// partsSuffix is how a multipart ETag ends ("-8\""); a single upload's ends in a quote.
func partsSuffix(parts int) string {
	if parts == 0 {
		return `"`
	}
	return "-" + strconv.Itoa(parts) + `"`
}

// A body that fails, ends early or runs long aborts the upload; a
// verifying reader as body (as import passes) makes a checksum mismatch a
// verification failure, and nothing appears either.
func TestPutRejectsBadData(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	body, sum := data(23*MiB, 7)
	_, otherSum := data(10, 8)
	size := int64(len(body))
	verified := func(b []byte, want string) io.Reader {
		return verify.NewReader(bytes.NewReader(b), size, want, "images/x.tgz", nil)
	}
	tests := []struct {
		name   string
		body   io.Reader
		size   int64
		sum    string
		verify bool  // the failure is a *verify.Error
		want   error // else the failure wraps want
	}{
		{"checksum mismatch multipart", verified(body, otherSum), size, otherSum, true, nil},
		{"checksum mismatch small", verify.NewReader(bytes.NewReader(body[:MiB]), MiB, otherSum, "e", nil), MiB, otherSum, true, nil},
		{"one byte flipped in the last part", verified(flip(body, len(body)-1), sum), size, sum, true, nil},
		{"verifying body too short", verified(body[:size-1], sum), size, sum, true, nil},
		{"body fails mid-stream", &failingReader{r: bytes.NewReader(body), n: 12 * MiB, err: errBodyBroke}, size, sum, false, errBodyBroke},
		{"body fails at the end", &failingReader{r: bytes.NewReader(body), n: size, err: errBodyBroke}, size, sum, false, errBodyBroke},
		{"body too short", bytes.NewReader(body[:size-1]), size, sum, false, ErrBodySize},
		{"body too long", bytes.NewReader(body), size - 1, sha(body[:size-1]), false, ErrBodySize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "img/" + bucketName(t) + ".tgz"
			err := s.Put(context.Background(), key, tc.body, tc.size, tc.sum, WithPartSize(5*MiB))
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if got := verify.IsFailure(err); got != tc.verify {
				t.Errorf("verify.IsFailure(%v) = %v, want %v", err, got, tc.verify)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), s.bucket) {
				t.Errorf("error %q does not name key and bucket", err)
			}
			assertAbsent(t, srv, s, key)
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// A failed overwrite leaves the object that was there untouched.
func TestPutFailedOverwriteKeepsOld(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	old, oldSum := data(6*MiB, 1)
	if err := s.Put(ctx, "a/a-1.tgz", bytes.NewReader(old), int64(len(old)), oldSum, WithPartSize(5*MiB)); err != nil {
		t.Fatal(err)
	}
	newer, _ := data(11*MiB, 2)
	body := verify.NewReader(bytes.NewReader(newer), int64(len(newer)), oldSum, "a/a-1.tgz", nil)
	err := s.Put(ctx, "a/a-1.tgz", body, int64(len(newer)), oldSum, WithPartSize(5*MiB))
	if !verify.IsFailure(err) {
		t.Fatalf("Put of wrong data = %v, want a verification failure", err)
	}
	assertStored(t, srv, s, "a/a-1.tgz", old, oldSum, 2)
	assertNoUploads(t, srv, s.bucket, "a/a-1.tgz")
}

func TestPutRejectsBadArguments(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	_, sum := data(1, 1)
	tests := []struct {
		name string
		size int64
		sum  string
		opts []PutOption
		want string
	}{
		{"uppercase sha", 1, strings.ToUpper(sum), nil, "lowercase hex"},
		{"short sha", 1, sum[:10], nil, "lowercase hex"},
		{"negative size", -1, sum, nil, "out of range"},
		{"tiny part", 1, sum, []PutOption{WithPartSize(MiB)}, "part size"},
		{"no workers", 1, sum, []PutOption{WithConcurrency(0)}, "concurrency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(context.Background(), "k", strings.NewReader("x"), tc.size, tc.sum, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Put = %v, want an error about %q", err, tc.want)
			}
		})
	}
}
