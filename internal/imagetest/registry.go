package imagetest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry serves an empty in-memory registry for the rest of the test and
// returns its host:port. go-containerregistry talks plain HTTP to it
// because the host is a loopback address.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push writes img to ref ("host/repo:tag") and returns its digest reference.
func Push(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	r := parse(t, ref)
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return digestRef(t, r, img)
}

// PushIndex writes idx and its images to ref and returns its digest reference.
func PushIndex(t testing.TB, ref string, idx v1.ImageIndex) string {
	t.Helper()
	r := parse(t, ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return digestRef(t, r, idx)
}

func parse(t testing.TB, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("parsing %s: %v", ref, err)
	}
	return r
}

func digestRef(t testing.TB, r name.Reference, m interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	d, err := m.Digest()
	if err != nil {
		t.Fatalf("digest of %s: %v", r, err)
	}
	return r.Context().Digest(d.String()).String()
}
