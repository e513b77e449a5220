package bucket

import (
	"bytes"
	"context"
	"errors"
	"io"
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

// OpenRange reads exactly the asked bytes, and only of the object seen:
// one replaced since its ETag was taken gives ErrPrecondition.
func TestOpenRangeIsConditional(t *testing.T) {
	s := newBucket(t, minio.Get(t))
	ctx := context.Background()
	first, firstSum := data(10000, 1)
	if err := s.Put(ctx, "r/obj.tgz", bytes.NewReader(first), int64(len(first)), firstSum); err != nil {
		t.Fatal(err)
	}
	obj, _, _ := s.Stat(ctx, "r/obj.tgz")
	rc, err := s.OpenRange(ctx, "r/obj.tgz", 1234, 5000, obj.ETag)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, first[1234:6234]) {
		t.Fatalf("OpenRange gave %d bytes, not bytes 1234-6233", len(got))
	}
	second, secondSum := data(10000, 2)
	if err := s.Put(ctx, "r/obj.tgz", bytes.NewReader(second), int64(len(second)), secondSum, IfUnchanged(obj.ETag)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenRange(ctx, "r/obj.tgz", 0, 10, obj.ETag); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("OpenRange of a replaced object = %v, want ErrPrecondition", err)
	}
}
