package release

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// buildDist builds a small program as make dist would name and stamp
// airlock for linux/arm64, with its SHA256SUMS line.
func buildDist(t *testing.T, version string) (dir, file string) {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nvar version = \"dev\"\n\nfunc main() { println(version) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/fake\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	file = filepath.Join(dir, "airlock-linux-arm64")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -buildid= -X main.version="+version, "-o", file, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sbom := file + ".cdx.json"
	if err := os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","metadata":{"component":{"name":"airlock","version":`+strconv.Quote(version)+`}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSums(t, dir, file, sbom)
	return dir, file
}

func writeSums(t *testing.T, dir string, files ...string) {
	t.Helper()
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		b.WriteString(hex.EncodeToString(sum[:]) + "  " + filepath.Base(f) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	dir, file := buildDist(t, "v9.1.0")
	host := runtime.GOOS + "/" + runtime.GOARCH
	bins, err := Find(dir, []string{"linux/arm64", Host, host, "linux/arm64"}, "v9.0.0-dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 2 {
		t.Fatalf("got %d binaries, want linux/arm64 and the host once each: %+v", len(bins), bins)
	}
	if b := bins[0]; b.File != file || b.Version != "v9.1.0" || b.Platform != "linux/arm64" || b.Path() != "airlock/v9.1.0/airlock-linux-arm64" {
		t.Errorf("from dist: %+v", b)
	}
	exe, _ := os.Executable()
	if b := bins[1]; host != "linux/arm64" && (b.File != exe || b.Version != "v9.0.0-dev" || b.Platform != host) {
		t.Errorf("the running binary: %+v, want %s as v9.0.0-dev for %s", b, exe, host)
	}
	data, _ := os.ReadFile(file)
	sum := sha256.Sum256(data)
	if bins[0].SHA256 != hex.EncodeToString(sum[:]) || bins[0].Size != int64(len(data)) {
		t.Errorf("size and sha256 %d %s are not the file's", bins[0].Size, bins[0].SHA256)
	}
}

func TestFindRefuses(t *testing.T) {
	dir, file := buildDist(t, "v9.1.0")
	if _, err := Find(dir, []string{"windows/amd64"}, "v9"); !errors.As(err, new(*NotFoundError)) || !strings.Contains(err.Error(), "airlock-windows-amd64.exe") {
		t.Errorf("a platform dist does not have: %v", err)
	}
	sbom := file + ".cdx.json"
	if err := os.WriteFile(sbom, []byte(strings.Replace(string(mustRead(t, sbom)), "v9.1.0", "v9.9.9", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir, []string{"linux/arm64"}, "v9"); err == nil || !strings.Contains(err.Error(), "cdx.json does not match") {
		t.Errorf("an SBOM changed after make dist: %v", err)
	}
	if err := os.WriteFile(file, append([]byte("x"), mustRead(t, file)[1:]...), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir, []string{"linux/arm64"}, "v9"); err == nil || !strings.Contains(err.Error(), "its SHA256SUMS says") {
		t.Errorf("a binary that does not match SHA256SUMS: %v", err)
	}
	writeSums(t, dir, file, file+".cdx.json") // now it matches, but it is no Go binary
	if _, err := Find(dir, []string{"linux/arm64"}, "v9"); err == nil || !strings.Contains(err.Error(), "build info") {
		t.Errorf("a binary without build info: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir, []string{"linux/arm64"}, "v9"); err == nil {
		t.Error("an empty SHA256SUMS is accepted")
	}
	bad, _ := buildDist(t, "v9/../x")
	if _, err := Find(bad, []string{"linux/arm64"}, "v9"); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a version the manifest cannot carry: %v", err)
	}
	if _, err := Find(t.TempDir(), []string{Host}, "not a version!"); err == nil {
		t.Error("the running binary with a version the manifest cannot carry is accepted")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
