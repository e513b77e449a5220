package bucket

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkPut uploads 128 MiB to the shared local MinIO; MB/s is the
// upload rate including hashing.
func BenchmarkPut(b *testing.B) {
	srv := minio.Get(b)
	name := "bench-put"
	srv.MakeBucket(b, name)
	s, err := Open(context.Background(), Config{Bucket: name, Endpoint: srv.Endpoint}, WithStaticCredentials(srv.AccessKey, srv.SecretKey))
	if err != nil {
		b.Fatal(err)
	}
	body, sum := data(128*MiB, 12)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := s.Put(context.Background(), "bench/bench-1.tgz", bytes.NewReader(body), int64(len(body)), sum); err != nil {
			b.Fatal(err)
		}
	}
}
