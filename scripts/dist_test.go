// Package scripts holds the tests of the shell scripts beside it: dist.sh,
// which make dist runs, is tested here for reproducible output.
package scripts

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/testtool"
	"github.com/airlockhq/airlock/keys"
)

// TestDistReproducible builds the release files of the host platform from
// two clones of HEAD at different paths, as make dist does, and requires
// them byte for byte equal: binary, SBOM, SHA256SUMS and its signature. It
// then checks what they say: the sums, the signature (with openssl too),
// the binary's version --json and the SBOM.
//
// Cost: the first run on a cold machine compiles airlock once with
// CGO_ENABLED=0 (about 80 s on 2 cores); the second clone reuses the build
// cache, as -trimpath makes the cache keys path-free, and takes seconds.
// AIRLOCK_DIST_COLD=1 gives the second build an empty build cache of its
// own, so the compiler's output is compared too (about 80 s more: 90 s for
// the whole test with a warm first build, measured on the 2-core machine).
// Only HEAD is built: uncommitted changes are not in the clones. make dist
// builds all four platforms; this test builds one.
func TestDistReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds airlock twice")
	}
	for _, tool := range []string{"git", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			testtool.SkipOrFail(t, "%s is not installed", tool)
		}
	}
	cdx, err := testtool.Find("cyclonedx-gomod", "AIRLOCK_CYCLONEDX")
	if err != nil {
		testtool.SkipOrFail(t, "%v", err)
	}
	root := strings.TrimSpace(run(t, "..", nil, "git", "rev-parse", "--show-toplevel"))
	tmp := t.TempDir()
	if _, err := keys.Generate(filepath.Join(tmp, "release")); err != nil {
		t.Fatal(err)
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	env := []string{"PLATFORMS=" + platform, "CYCLONEDX=" + cdx, "KEY=" + filepath.Join(tmp, "release.key")}

	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b", "another", "place")
	var dists []map[string][]byte
	for i, dir := range []string{a, b} {
		run(t, tmp, nil, "git", "clone", "-q", root, dir)
		benv := env
		if i == 1 && os.Getenv("AIRLOCK_DIST_COLD") == "1" {
			benv = append(benv, "GOCACHE="+filepath.Join(tmp, "gocache"))
		}
		run(t, dir, benv, "bash", "scripts/dist.sh")
		dists = append(dists, readDir(t, filepath.Join(dir, "dist")))
	}
	name := "airlock-" + runtime.GOOS + "-" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	want := []string{"SHA256SUMS", "SHA256SUMS.sig", name, name + ".cdx.json"}
	for i, d := range dists {
		if got := sortedKeys(d); !slices.Equal(got, want) {
			t.Fatalf("build %d wrote %v, want %v", i+1, got, want)
		}
	}
	for _, f := range want {
		if !bytes.Equal(dists[0][f], dists[1][f]) {
			t.Errorf("%s differs between the builds in %s and %s", f, a, b)
		}
	}
	d := dists[0]

	var sums strings.Builder
	for _, f := range []string{name, name + ".cdx.json"} {
		h := sha256.Sum256(d[f])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), f)
	}
	if string(d["SHA256SUMS"]) != sums.String() {
		t.Errorf("SHA256SUMS is\n%s\nwant\n%s", d["SHA256SUMS"], sums.String())
	}
	pub, err := keys.LoadPublic(filepath.Join(tmp, "release.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub.Key, d["SHA256SUMS"], d["SHA256SUMS.sig"]) {
		t.Error("SHA256SUMS.sig is not the release key's signature over SHA256SUMS")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		testtool.SkipOrFail(t, "openssl is not installed")
	}
	run(t, filepath.Join(a, "dist"), nil, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub.Path, "-rawin", "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig")

	version := strings.TrimSpace(run(t, a, nil, "git", "describe", "--tags", "--always", "--dirty"))
	commit := strings.TrimSpace(run(t, a, nil, "git", "rev-parse", "HEAD"))
	checkVersionDoc(t, run(t, a, nil, filepath.Join(a, "dist", name), "version", "--json"), version, commit)
	checkSBOM(t, d[name+".cdx.json"], version)

	// A failure after the builds (a key that is no private key) leaves the
	// earlier dist/ as it was and nothing half-written beside it.
	cmd := exec.Command("bash", "scripts/dist.sh")
	cmd.Dir = a
	cmd.Env = append(os.Environ(), "PLATFORMS="+platform, "CYCLONEDX="+cdx, "KEY="+pub.Path)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "release.pub") {
		t.Errorf("dist.sh with a public key as KEY: %v\n%s", err, out)
	}
	if got := readDir(t, filepath.Join(a, "dist")); !equalFiles(got, d) {
		t.Error("a failed dist.sh changed the earlier dist/")
	}
	if left, _ := filepath.Glob(filepath.Join(a, "dist.partial-*")); len(left) > 0 {
		t.Errorf("a failed dist.sh left %v", left)
	}
}

// checkVersionDoc checks what a dist binary says of itself.
func checkVersionDoc(t *testing.T, out, version, commit string) {
	t.Helper()
	var doc struct {
		Schema    int               `json:"schema"`
		Version   string            `json:"version"`
		Commit    string            `json:"commit"`
		Time      string            `json:"commit_time"`
		Modified  *bool             `json:"modified"`
		GoVersion string            `json:"go_version"`
		Build     map[string]string `json:"build"`
		Main      struct{ Version string }
		Deps      []struct{ Path, Version, Sum string } `json:"dependencies"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	if doc.Schema != 1 || doc.Version != version || doc.Commit != commit || doc.Time == "" ||
		doc.Modified == nil || *doc.Modified || doc.GoVersion != runtime.Version() {
		t.Errorf("version --json says %+v; want version %s, commit %s with its time, unmodified, %s", doc, version, commit, runtime.Version())
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "vcs": "git"} {
		if doc.Build[k] != v {
			t.Errorf("version --json: build setting %s is %q, want %q", k, doc.Build[k], v)
		}
	}
	if !slices.ContainsFunc(doc.Deps, func(d struct{ Path, Version, Sum string }) bool {
		return d.Path == "github.com/spf13/cobra" && strings.HasPrefix(d.Sum, "h1:")
	}) {
		t.Errorf("version --json does not list github.com/spf13/cobra with its sum: %+v", doc.Deps)
	}
}

// checkSBOM checks the SBOM: CycloneDX, the binary's version, no serial
// number or timestamp, the modules compiled in.
func checkSBOM(t *testing.T, data []byte, version string) {
	t.Helper()
	var bom struct {
		Format   string  `json:"bomFormat"`
		Serial   *string `json:"serialNumber"`
		Metadata struct {
			Timestamp *string `json:"timestamp"`
			Component struct{ Name, Version string }
		}
		Components []struct{ Name, Version string }
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatalf("SBOM: %v", err)
	}
	if bom.Format != "CycloneDX" || bom.Serial != nil || bom.Metadata.Timestamp != nil ||
		bom.Metadata.Component.Name != "github.com/airlockhq/airlock" || bom.Metadata.Component.Version != version {
		t.Errorf("SBOM: format %q, serial number %t, timestamp %t, component %+v; want CycloneDX, none, none, airlock %s",
			bom.Format, bom.Serial != nil, bom.Metadata.Timestamp != nil, bom.Metadata.Component, version)
	}
	for _, want := range []string{"github.com/spf13/cobra", "github.com/aws/aws-sdk-go-v2/service/s3", "std"} {
		if !slices.ContainsFunc(bom.Components, func(c struct{ Name, Version string }) bool { return c.Name == want }) {
			t.Errorf("SBOM does not list %s", want)
		}
	}
}

// run runs name in dir with env added and returns its stdout.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return string(out)
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func equalFiles(a, b map[string][]byte) bool {
	return slices.Equal(sortedKeys(a), sortedKeys(b)) && !slices.ContainsFunc(sortedKeys(a), func(k string) bool { return !bytes.Equal(a[k], b[k]) })
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
