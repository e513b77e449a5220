package bucket

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestCheck(t *testing.T) {
	srv := minio.Get(t)
	present := bucketName(t)
	srv.MakeBucket(t, present)
	tests := []struct {
		name     string
		bucket   string
		endpoint string
		access   string
		secret   string
		want     error // nil: Check passes
	}{
		{"ok", present, srv.Endpoint, srv.AccessKey, srv.SecretKey, nil},
		{"missing bucket", "absent", srv.Endpoint, srv.AccessKey, srv.SecretKey, ErrNoSuchBucket},
		{"wrong secret", present, srv.Endpoint, srv.AccessKey, "not-the-secret", ErrCredentials},
		{"unknown access key", present, srv.Endpoint, "nobody", srv.SecretKey, ErrCredentials},
		{"wrong secret and missing bucket", "absent", srv.Endpoint, srv.AccessKey, "not-the-secret", ErrCredentials},
		{"unreachable endpoint", present, closedEndpoint(t), srv.AccessKey, srv.SecretKey, ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), Config{Bucket: tc.bucket, Endpoint: tc.endpoint},
				WithStaticCredentials(tc.access, tc.secret), WithMaxAttempts(1))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Check(context.Background())
			assertKind(t, err, tc.want, tc.bucket, tc.endpoint)
		})
	}
}

// assertKind checks err is an *Error of kind want naming bucket and endpoint.
func assertKind(t *testing.T, err, want error, bucket, endpoint string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Check = %v, want success", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, want) {
		t.Fatalf("Check = %v, want an *Error of kind %q", err, want)
	}
	for _, kind := range []error{ErrNoSuchBucket, ErrCredentials, ErrAccessDenied, ErrUnreachable, ErrTLS} {
		if kind != want && errors.Is(err, kind) {
			t.Errorf("Check = %v also matches %q", err, kind)
		}
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "checking bucket "+bucket+" at "+endpoint+": ") {
		t.Errorf("message %q should start in lowercase and name bucket %s and endpoint %s", msg, bucket, endpoint)
	}
}

// closedEndpoint returns an http endpoint where nothing listens.
func closedEndpoint(t *testing.T) string {
	ts := httptest.NewServer(http.NotFoundHandler())
	ts.Close()
	return ts.URL
}

// A TLS endpoint signed by an unknown CA fails until its CA is given.
func TestCheckTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead || r.URL.Path != "/images" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
		}
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ts.StartTLS()
	defer ts.Close()
	cfg := Config{Bucket: "images", Endpoint: ts.URL}
	s, err := Open(context.Background(), cfg, WithStaticCredentials("k", "s"), WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	assertKind(t, s.Check(context.Background()), ErrTLS, "images", ts.URL)

	cfg.CABundle = filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(cfg.CABundle, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(context.Background(), cfg, WithStaticCredentials("k", "s"), WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check with the CA bundle = %v, want success", err)
	}
}

// The endpoint may come from AWS_ENDPOINT_URL_S3 and credentials from the
// environment; path-style addressing follows the endpoint.
func TestOpenFromEnvironment(t *testing.T) {
	srv := minio.Get(t)
	fromEnv := bucketName(t)
	srv.MakeBucket(t, fromEnv)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	s, err := Open(context.Background(), Config{Bucket: fromEnv})
	if err != nil {
		t.Fatal(err)
	}
	if s.Endpoint() != srv.Endpoint {
		t.Errorf("Endpoint() = %s, want %s", s.Endpoint(), srv.Endpoint)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check = %v", err)
	}
}

func TestKindOfAPIErrors(t *testing.T) {
	tests := []struct {
		status   int
		code     string
		bucketOp bool
		want     error
	}{
		{403, "AccessDenied", true, ErrAccessDenied},
		{403, "Forbidden", false, ErrAccessDenied},
		{403, "InvalidAccessKeyId", true, ErrCredentials},
		{403, "SignatureDoesNotMatch", false, ErrCredentials},
		{400, "ExpiredToken", true, ErrCredentials},
		{404, "NoSuchBucket", false, ErrNoSuchBucket},
		{404, "NotFound", true, ErrNoSuchBucket},
		{404, "NotFound", false, ErrNotFound},
		{404, "NoSuchKey", false, ErrNotFound},
		{500, "InternalError", true, nil},
	}
	for _, tc := range tests {
		err := apiError(tc.status, tc.code)
		if got := kind(err, tc.bucketOp, "us-east-1"); got != tc.want {
			t.Errorf("kind(%d %s, bucket op %v) = %v, want %v", tc.status, tc.code, tc.bucketOp, got, tc.want)
		}
	}
}

func apiError(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code},
	}}
}
