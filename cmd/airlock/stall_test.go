package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/keys"
)

// An S3 endpoint that accepts requests and never answers fails the command
// with the endpoint named and a hint, instead of hanging.
func TestStalledS3EndpointFails(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-done }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	dir := t.TempDir()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"audit", "--bucket", "images", "--endpoint", srv.URL, "--pub", filepath.Join(dir, "k.pub"), "--stall-timeout", "200ms"},
		streams{in: strings.NewReader(""), out: &out, err: &errOut})
	if ctx.Err() != nil {
		t.Fatal("audit waited until the test's deadline")
	}
	if code != exitError {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitError, errOut.String())
	}
	for _, want := range []string{srv.URL, "stalled", "airlock: hint:", "--stall-timeout"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}
