package miniotest

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var shared Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func TestSharedStartsOnce(t *testing.T) {
	a, b := shared.Get(t), shared.Get(t)
	if a != b {
		t.Fatal("Shared.Get started a second server")
	}
	if !strings.HasPrefix(a.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not a local http address", a.Endpoint)
	}
	assertReady(t, a, true)
}

func TestRestartKeepsDataAndPort(t *testing.T) {
	srv := Start(t)
	srv.MakeBucket(t, "keep")
	put(t, srv, "keep", "k", "v")
	endpoint := srv.Endpoint

	srv.Stop()
	assertReady(t, srv, false)
	srv.Stop() // stopping twice is harmless

	srv.Restart(t)
	if srv.Endpoint != endpoint {
		t.Fatalf("endpoint changed across restart: %s -> %s", endpoint, srv.Endpoint)
	}
	out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("keep"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("object lost across restart: %v", err)
	}
	if aws.ToInt64(out.ContentLength) != 1 {
		t.Fatalf("object size after restart = %d, want 1", aws.ToInt64(out.ContentLength))
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(EnvBinary, t.TempDir()+"/no-minio")
	_, err := findBinary()
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("findBinary error = %v, want a hint to run make tools", err)
	}
}

func put(t *testing.T, srv *Server, bucket, key, body string) {
	t.Helper()
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
	})
	if err != nil {
		t.Fatalf("putting %s/%s: %v", bucket, key, err)
	}
}

func assertReady(t *testing.T, srv *Server, want bool) {
	t.Helper()
	resp, err := http.Get(srv.Endpoint + "/minio/health/ready")
	got := err == nil && resp.StatusCode == http.StatusOK
	if err == nil {
		resp.Body.Close()
	}
	if got != want {
		t.Fatalf("server ready = %v, want %v (err %v)", got, want, err)
	}
}
