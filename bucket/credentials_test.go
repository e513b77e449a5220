package bucket

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockhq/airlock/internal/miniotest"
)

// TestNoCredentials: with an endpoint, the EC2 metadata service is asked
// only when enabled, and finding nothing is a *CredentialsError naming the
// sources tried.
func TestNoCredentials(t *testing.T) {
	var asked atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.NotFound(w, r)
	}))
	defer imds.Close()
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_SHARED_CREDENTIALS_FILE": "", "AWS_CONFIG_FILE": "", "AWS_EC2_METADATA_DISABLED": "",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "HOME": home, "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		t.Setenv(k, v)
	}
	for _, enabled := range []bool{false, true} {
		asked.Store(0)
		s, err := Open(context.Background(), Config{Bucket: "images", Endpoint: "http://127.0.0.1:1", EC2Metadata: enabled}, WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Check(context.Background())
		var ce *CredentialsError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCredentials) {
			t.Fatalf("EC2Metadata %v: Check = %v, want a *CredentialsError", enabled, err)
		}
		msg := err.Error()
		for _, want := range []string{"AWS_ACCESS_KEY_ID", `profile "default"`, filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")} {
			if !strings.Contains(msg, want) {
				t.Errorf("%q does not name %s", msg, want)
			}
		}
		if got := asked.Load() > 0; got != enabled || ce.EC2Metadata != enabled {
			t.Errorf("EC2Metadata %v: metadata service asked: %v (error says %v)", enabled, got, ce.EC2Metadata)
		}
	}
}

// TestWrongRegion: the region the server expects is in the error.
func TestWrongRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	srv := miniotest.StartWithEnv(t, "MINIO_SITE_REGION=eu-west-3")
	srv.MakeBucket(t, "images")
	for _, region := range []string{"us-east-1", ""} {
		s, err := Open(context.Background(), Config{Bucket: "images", Endpoint: srv.Endpoint, Region: region},
			WithStaticCredentials(srv.AccessKey, srv.SecretKey))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Check(context.Background())
		var wr *WrongRegionError
		if !errors.As(err, &wr) || wr.Expected != "eu-west-3" || wr.Used != "us-east-1" || !errors.Is(err, ErrWrongRegion) {
			t.Fatalf("region %q: Check = %v, want a *WrongRegionError expecting eu-west-3", region, err)
		}
		if _, err := s.List(context.Background(), ""); !errors.As(err, &wr) || wr.Expected != "eu-west-3" {
			t.Errorf("List = %v, want a *WrongRegionError", err)
		}
	}
	s, err := Open(context.Background(), Config{Bucket: "images", Endpoint: srv.Endpoint, Region: "eu-west-3"},
		WithStaticCredentials(srv.AccessKey, srv.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("the right region: %v", err)
	}
}
