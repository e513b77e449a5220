// Package buckettest gives tests of the packages built on bucket (importer,
// audit, record) a fresh bucket on a real MinIO, reproducible data, and ways
// to look at or tamper with the bucket behind the code under test.
package buckettest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/miniotest"
)

// New creates a bucket named after the test on srv and opens a Store on it.
func New(t testing.TB, srv *miniotest.Server, opts ...bucket.Option) *bucket.Store {
	t.Helper()
	name := Name(t)
	srv.MakeBucket(t, name)
	return Open(t, srv, name, opts...)
}

// Open opens a Store on bucket name of srv.
func Open(t testing.TB, srv *miniotest.Server, name string, opts ...bucket.Option) *bucket.Store {
	t.Helper()
	return OpenAt(t, srv, srv.Endpoint, name, opts...)
}

// OpenAt opens a Store on bucket name of srv through endpoint, e.g. one
// node of a distributed server (srv.NodeEndpoint).
func OpenAt(t testing.TB, srv *miniotest.Server, endpoint, name string, opts ...bucket.Option) *bucket.Store {
	t.Helper()
	opts = append([]bucket.Option{bucket.WithStaticCredentials(srv.AccessKey, srv.SecretKey)}, opts...)
	s, err := bucket.Open(context.Background(), bucket.Config{Bucket: name, Endpoint: endpoint}, opts...)
	if err != nil {
		t.Fatalf("bucket.Open: %v", err)
	}
	return s
}

var notBucketChars = regexp.MustCompile(`[^a-z0-9]+`)

var buckets atomic.Int64

// Name is a valid bucket name derived from the test's name, made unique
// in the process so that repeated runs (-count) get fresh buckets.
func Name(t testing.TB) string {
	name := strings.Trim(notBucketChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 54 {
		name = strings.Trim(name[len(name)-54:], "-")
	}
	return fmt.Sprintf("%s-%d", name, buckets.Add(1))
}

// Data returns n reproducible pseudo-random bytes and their sha256.
func Data(n int, seed uint64) ([]byte, string) {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b, SHA(b)
}

// SHA is the lowercase hex SHA-256 of b.
func SHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Flip returns a copy of b with byte i changed.
func Flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// RawPut writes an object behind the Store's back.
func RawPut(t testing.TB, srv *miniotest.Server, bucket, key string, body []byte, meta map[string]string) {
	t.Helper()
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: meta,
	})
	if err != nil {
		t.Fatalf("raw put %s: %v", key, err)
	}
}

// Uploads lists the bucket's incomplete multipart uploads as MinIO answers
// for each key by itself: the keys of the listing of the whole bucket and
// keys. (MinIO's whole-bucket listing also shows uploads that are gone, and
// forgets some after a restart; a listing by the whole key does neither.)
func Uploads(t testing.TB, srv *miniotest.Server, bucket string, keys ...string) []string {
	t.Helper()
	list := func(prefix string) []types.MultipartUpload {
		out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{
			Bucket: aws.String(bucket), Prefix: aws.String(prefix),
		})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		return out.Uploads
	}
	for _, u := range list("") {
		keys = append(keys, aws.ToString(u.Key))
	}
	slices.Sort(keys)
	var ups []string
	for _, key := range slices.Compact(keys) {
		for _, u := range list(key) {
			if aws.ToString(u.Key) == key {
				ups = append(ups, key+" (upload "+aws.ToString(u.UploadId)+")")
			}
		}
	}
	return ups
}
