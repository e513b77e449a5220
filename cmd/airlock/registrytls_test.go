package main

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/airlockhq/airlock/internal/imagetest"
)

// TestRegistryCA: a registry whose certificate a private CA signed is
// trusted through --registry-ca or docker's certs.d layout, and only then.
func TestRegistryCA(t *testing.T) {
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	ref := host + "/team/tool:1.0"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, imagetest.Image(t, []imagetest.File{{Name: "tool", Body: "1.0\n"}}), remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	caFile := filepath.Join(dir, "registry-ca.pem")
	writeFile(t, caFile, ca)
	certsD := filepath.Join(dir, "certs.d")
	writeFile(t, filepath.Join(certsD, host, "ca.crt"), ca)
	otherD := filepath.Join(dir, "other.d")
	writeFile(t, filepath.Join(otherD, "registry.example:443", "ca.crt"), ca)
	empty := filepath.Join(dir, "empty.d")
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))

	_, stderr := runAirlock(t, 1, "export", ref, "--dry-run", "--registry-certs-dir", empty)
	if !strings.Contains(stderr, "untrusted TLS certificate") || !strings.Contains(stderr, "hint: trust the registry's CA with --registry-ca FILE") {
		t.Errorf("untrusted registry:\n%s", stderr)
	}
	runAirlock(t, 1, "export", ref, "--dry-run", "--registry-certs-dir", otherD) // another host's CA does not count
	for _, args := range [][]string{
		{"--registry-ca", caFile, "--registry-certs-dir", empty},
		{"--registry-certs-dir", certsD},
	} {
		out, _ := runAirlock(t, 0, append([]string{"export", ref, "--dry-run"}, args...)...)
		if !strings.Contains(out, "tool/tool-1.0.tgz") {
			t.Errorf("%v: plan lacks the image:\n%s", args, out)
		}
	}
	_, stderr = runAirlock(t, 1, "export", ref, "--dry-run", "--registry-ca", filepath.Join(dir, "nope.pem"))
	if !strings.Contains(stderr, "nope.pem") {
		t.Errorf("a missing CA file is not named:\n%s", stderr)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
