package bucket

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// The pinned MinIO honours If-None-Match: * and If-Match on both upload
// paths (PutObject and CompleteMultipartUpload): a refused write is
// ErrPrecondition, leaves the object as it was and no upload behind.
func TestPutConditional(t *testing.T) {
	srv := minio.Get(t)
	s := newBucket(t, srv)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		size int
	}{{"single", 1000}, {"multipart", 12 * MiB}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "c/" + tc.name + ".tgz"
			first, firstSum := data(tc.size, 1)
			second, secondSum := data(tc.size, 2)
			put := func(b []byte, sum string, opts ...PutOption) error {
				return s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), sum, append(opts, WithPartSize(5*MiB))...)
			}
			if err := put(first, firstSum, IfAbsent()); err != nil {
				t.Fatalf("IfAbsent on an absent key: %v", err)
			}
			obj, _, _ := s.Stat(ctx, key)
			if err := put(second, secondSum, IfAbsent()); !errors.Is(err, ErrPrecondition) {
				t.Fatalf("IfAbsent over an object = %v, want ErrPrecondition", err)
			}
			assertStored(t, srv, s, key, first, firstSum, parts(tc.size))
			if err := put(second, secondSum, IfUnchanged(`"0123456789abcdef0123456789abcdef"`)); !errors.Is(err, ErrPrecondition) {
				t.Fatalf("IfUnchanged with a stale ETag = %v, want ErrPrecondition", err)
			}
			assertStored(t, srv, s, key, first, firstSum, parts(tc.size))
			if err := put(second, secondSum, IfUnchanged(obj.ETag)); err != nil {
				t.Fatalf("IfUnchanged with the current ETag: %v", err)
			}
			assertStored(t, srv, s, key, second, secondSum, parts(tc.size))
			if err := put(first, firstSum, IfUnchanged(obj.ETag)); !errors.Is(err, ErrPrecondition) {
				t.Fatalf("IfUnchanged with the replaced object's ETag = %v, want ErrPrecondition", err)
			}
			assertStored(t, srv, s, key, second, secondSum, parts(tc.size))
			assertNoUploads(t, srv, s.bucket, key)
		})
	}
}

func parts(size int) int {
	if size < 5*MiB {
		return 0
	}
	return int(ceilDiv(int64(size), 5*MiB))
}
