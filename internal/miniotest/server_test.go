package miniotest

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

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

// Distributed mode with 4 nodes: MinIO's default parity for 4 drives
// (EC:2) keeps reads and writes going with one node killed; with two
// killed it serves reads and does not complete writes; the nodes come back on
// their drives.
func TestDistributedSurvivesOneNode(t *testing.T) {
	srv := StartDistributed(t, 4)
	if srv.Nodes() != 4 {
		t.Fatalf("Nodes() = %d, want 4", srv.Nodes())
	}
	srv.MakeBucket(t, "dist")
	put(t, srv, "dist", "before", "v1")

	srv.KillNode(t, 3)
	got := get(t, srv, "dist", "before")
	if got != "v1" {
		t.Fatalf("read with a node down = %q, want v1", got)
	}
	put(t, srv, "dist", "during", "v2")

	// Two of four down: below the write quorum (3), at the read quorum
	// (2). MinIO still serves reads; a write is not refused but left
	// without an answer (observed: more than 30 s, the SDK's retries off),
	// so clients must bound every request.
	srv.KillNode(t, 2)
	if got := get(t, srv, "dist", "during"); got != "v2" {
		t.Fatalf("read with two nodes down = %q, want v2", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dist"), Key: aws.String("refused"), Body: strings.NewReader("v3")},
		func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
	if err == nil {
		t.Fatal("a write with two of four nodes down succeeded, want it to fail (write quorum is 3)")
	}
	t.Logf("write with two nodes down: %v", err)
	srv.StartNode(t, 2)

	srv.StartNode(t, 3)
	if got := get(t, srv, "dist", "during"); got != "v2" {
		t.Fatalf("object written with a node down = %q after it came back, want v2", got)
	}
}

func TestSharedNodes(t *testing.T) {
	for v, want := range map[string]int{"": 1, "1": 1, "4": 4, "6": 6} {
		t.Setenv(EnvNodes, v)
		if n, err := sharedNodes(); err != nil || n != want {
			t.Errorf("$%s=%q: sharedNodes() = %d, %v; want %d", EnvNodes, v, n, err, want)
		}
	}
	for _, v := range []string{"2", "3", "0", "four"} {
		t.Setenv(EnvNodes, v)
		if _, err := sharedNodes(); err == nil || !strings.Contains(err.Error(), EnvNodes) {
			t.Errorf("$%s=%q: error %v, want one naming %s", EnvNodes, v, err, EnvNodes)
		}
	}
}

func get(t *testing.T, srv *Server, bucket, key string) string {
	t.Helper()
	out, err := srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("getting %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading %s/%s: %v", bucket, key, err)
	}
	return string(b)
}
