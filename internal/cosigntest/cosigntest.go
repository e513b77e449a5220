// Package cosigntest runs the real cosign CLI for tests: key pairs and
// signatures on images in a test registry. Under CI=true a missing cosign
// binary fails the test instead of skipping it.
package cosigntest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"

	"github.com/airlockhq/airlock/internal/testtool"
)

// EnvBinary names the environment variable that points at the cosign binary
// (make sets it to .tools/bin/cosign).
const EnvBinary = "AIRLOCK_COSIGN"

// Binary returns the cosign binary, skipping t when there is none (failing
// it under CI=true).
func Binary(t testing.TB) string {
	t.Helper()
	p, err := find()
	if err != nil {
		testtool.SkipOrFail(t, "cosigntest: %v", err)
	}
	return p
}

func find() (string, error) { return testtool.Find("cosign", EnvBinary) }

// KeyPair writes an unencrypted cosign key pair DIR/NAME.key and
// DIR/NAME.pub with `cosign generate-key-pair` and returns their paths.
func KeyPair(t testing.TB, cosign, dir, name string) (key, pub string) {
	t.Helper()
	run(t, cosign, dir, "generate-key-pair", "--output-key-prefix", name)
	return filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
}

// Sign signs ref (REG/REPO@DIGEST) with key as a publisher would, without
// a transparency log.
func Sign(t testing.TB, cosign, key, ref string) {
	t.Helper()
	run(t, cosign, filepath.Dir(key), "sign", "--key", key, "--tlog-upload=false",
		"--allow-insecure-registry", "--allow-http-registry", "--yes", ref)
}

func run(t testing.TB, cosign, dir string, args ...string) {
	t.Helper()
	runEnv(t, cosign, dir, nil, args...)
}

// runEnv runs cosign with env added to the environment.
func runEnv(t testing.TB, cosign, dir string, env []string, args ...string) {
	t.Helper()
	if out, err := command(t, cosign, dir, env, args...); err != nil {
		t.Fatalf("cosign %v: %v\n%s", args, err, out)
	}
}

// Accepts reports whether `cosign ARGS` succeeds, e.g. a `cosign verify`
// whose verdict a test compares with airlock's; out is what it printed.
func Accepts(t testing.TB, cosign, dir string, args ...string) (ok bool, out string) {
	t.Helper()
	out, err := command(t, cosign, dir, nil, args...)
	return err == nil, out
}

func command(t testing.TB, cosign, dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(cosign, args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+home, "DOCKER_CONFIG="+home, "TUF_ROOT="+filepath.Join(home, "tuf")), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TamperPayload rewrites the signature image cosign attached to digestRef
// (REG/REPO@sha256:...) so that its first payload says something else
// while keeping the original signature annotation.
func TamperPayload(t testing.TB, digestRef string) {
	t.Helper()
	d, err := name.NewDigest(digestRef)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	tag := d.Context().Tag(h.Algorithm + "-" + h.Hex + ".sig")
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatalf("reading signatures of %s: %v", digestRef, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("signature image of %s has no layers (%v)", digestRef, err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	payload = bytes.Replace(payload, []byte(`"optional":null`), []byte(`"optional":{"tampered":"yes"}`), 1)
	payload = bytes.Replace(payload, []byte(`"optional":{}`), []byte(`"optional":{"tampered":"yes"}`), 1)
	if !bytes.Contains(payload, []byte("tampered")) {
		payload = append(bytes.TrimRight(payload, "}\n"), []byte(`,"tampered":true}`)...)
	}
	desc := m.Layers[0]
	out, err := mutate.Append(mutate.MediaType(empty.Image, m.MediaType), mutate.Addendum{
		Layer:       static.NewLayer(payload, desc.MediaType),
		Annotations: desc.Annotations,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, out); err != nil {
		t.Fatalf("writing tampered signatures of %s: %v", digestRef, err)
	}
}
