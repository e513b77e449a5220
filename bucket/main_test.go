package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/internal/miniotest"
)

var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Close()
	os.Exit(code)
}

// newBucket creates a bucket named after the test on srv and opens a Store on it.
func newBucket(t *testing.T, srv *miniotest.Server, opts ...Option) *Store {
	t.Helper()
	name := bucketName(t)
	srv.MakeBucket(t, name)
	return openStore(t, srv, name, opts...)
}

func openStore(t *testing.T, srv *miniotest.Server, name string, opts ...Option) *Store {
	t.Helper()
	opts = append([]Option{WithStaticCredentials(srv.AccessKey, srv.SecretKey)}, opts...)
	s, err := Open(context.Background(), Config{Bucket: name, Endpoint: srv.Endpoint}, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

var notBucketChars = regexp.MustCompile(`[^a-z0-9]+`)

func bucketName(t *testing.T) string {
	name := strings.Trim(notBucketChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 54 {
		name = strings.Trim(name[len(name)-54:], "-")
	}
	return fmt.Sprintf("%s-%d", name, buckets.Add(1)) // fresh with -count>1
}

var buckets atomic.Int64

// data returns n reproducible pseudo-random bytes and their sha256.
func data(n int, seed uint64) ([]byte, string) {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seedOf(seed)).Read(b)
	return b, sha(b)
}

// stream returns a reader of n reproducible pseudo-random bytes that holds
// none of them, and their sha256.
func stream(n int64, seed uint64) (io.Reader, string) {
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(rand.NewChaCha8(seedOf(seed)), n))
	return io.LimitReader(rand.NewChaCha8(seedOf(seed)), n), hex.EncodeToString(h.Sum(nil))
}

func seedOf(n uint64) (s [32]byte) {
	s[0], s[1] = byte(n), byte(n>>8)
	return s
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// assertAbsent fails t if key exists or has an incomplete multipart upload.
func assertAbsent(t *testing.T, srv *miniotest.Server, s *Store, key string) {
	t.Helper()
	if obj, ok, err := s.Stat(context.Background(), key); err != nil || ok {
		t.Errorf("Stat(%s) = %+v, %v, %v; want absent", key, obj, ok, err)
	}
	assertNoUploads(t, srv, s.bucket, key)
}

// assertNoUploads fails t if the bucket lists incomplete multipart uploads,
// asking for all of them and for each of keys (MinIO lists an upload by its
// whole key even when the full listing forgot it).
func assertNoUploads(t *testing.T, srv *miniotest.Server, bucket string, keys ...string) {
	t.Helper()
	for _, prefix := range append([]string{""}, keys...) {
		out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{
			Bucket: aws.String(bucket), Prefix: aws.String(prefix),
		})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		for _, u := range out.Uploads {
			t.Errorf("incomplete multipart upload left: key %s id %s", aws.ToString(u.Key), aws.ToString(u.UploadId))
		}
	}
}

// failingReader yields the first n bytes of r, then fails with err.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(int64(len(p)), f.n)]
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

var errBodyBroke = errors.New("disk read error")
