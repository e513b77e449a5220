package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden bundles in testdata/golden")

// The golden bundles were written once by this package and committed; the
// reader must keep accepting them, like age's test vectors. Regenerate them
// only with `go test ./bundle -run Golden -update`, never by hand.
const (
	goldenDir      = "testdata/golden"
	goldenKey      = goldenDir + "/golden.key" // TEST-ONLY private key, committed on purpose
	goldenPub      = goldenDir + "/golden.pub"
	goldenBase     = goldenDir + "/hello"       // hello.tar
	goldenSplit    = goldenDir + "/hello-split" // hello-split.tar.001, .002, ...
	goldenPartSize = 2048
)

var goldenCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var goldenImage = manifest.Image{
	Source:       "registry.example/library/hello:1.0",
	Digest:       "sha256:2f8a1b0c9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
	Platform:     "linux/amd64",
	Name:         "hello",
	Version:      "1.0",
	Key:          "hello/hello-1.0.tgz",
	RootfsFormat: 1,
	Metadata: concourse.Metadata{
		Cmd: []string{"/hello"}, Entrypoint: []string{}, Env: []string{"PATH=/usr/bin:/bin"}, User: "1000",
	},
}

const goldenPath = "images/hello/hello-1.0.tgz"

// goldenRootfs is a tiny fake Concourse rootfs tgz: metadata.json and rootfs/.
func goldenRootfs(t *testing.T) []byte {
	t.Helper()
	tgz, err := bundletest.RootfsTgz(goldenCreated, []bundletest.File{
		{Name: "metadata.json", Body: []byte(`{"cmd":["/hello"],"entrypoint":[],"env":["PATH=/usr/bin:/bin"],"user":"1000"}` + "\n")},
		{Name: "rootfs/"},
		{Name: "rootfs/hello", Body: []byte("#!/bin/sh\necho hello\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tgz
}

// writeGolden rewrites the golden bundles, keeping the committed key so
// that a regeneration changes only what the writer changed.
func writeGolden(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	priv, err := bundletest.Key(strings.TrimSuffix(goldenKey, ".key"))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(goldenDir + "/*.tar*")
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	tgz := goldenRootfs(t)
	img := goldenImage
	payloads := []bundle.Payload{{Path: goldenPath, Image: &img, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tgz)), nil
	}}}
	for base, opts := range map[string][]bundle.Option{
		goldenBase:  nil,
		goldenSplit: {bundle.WithPartSize(goldenPartSize)},
	} {
		opts = append(opts, bundle.WithCreated(goldenCreated), bundle.WithTool("airlock golden test"))
		if _, err := bundle.Write(context.Background(), base, priv, payloads, opts...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGolden(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	pub, err := keys.LoadPublic(goldenPub)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := filepath.Glob(goldenSplit + ".tar.[0-9][0-9][0-9]")
	if err != nil || len(parts) < 2 {
		t.Fatalf("the split golden bundle should have several parts, found %v (%v)", parts, err)
	}
	for name, args := range map[string][]string{"whole": {goldenBase + ".tar"}, "first part": {parts[0]}, "all parts": parts} {
		t.Run(name, func(t *testing.T) {
			r, err := bundle.Open(args, []keys.Public{pub})
			if err != nil {
				t.Fatalf("golden bundle rejected: %v", err)
			}
			defer r.Close()
			checkGoldenManifest(t, r.Manifest, pub)
			if r.Signer.ID != pub.ID {
				t.Errorf("signer = %s, want %s", r.Signer.ID, pub.ID)
			}
			var read []string
			for {
				e, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("golden bundle rejected: %v", err)
				}
				b, err := io.ReadAll(e)
				if err != nil {
					t.Fatalf("golden entry %s rejected: %v", e.Path, err)
				}
				checkGoldenRootfs(t, b)
				read = append(read, e.Path)
			}
			if !slices.Equal(read, []string{goldenPath}) {
				t.Errorf("read entries %v, want %s", read, goldenPath)
			}
		})
	}
}

func checkGoldenManifest(t *testing.T, m *manifest.Manifest, pub keys.Public) {
	t.Helper()
	if m.Format != 1 || !m.Created.Equal(goldenCreated) || m.Signer != pub.ID || m.Tool != "airlock golden test" {
		t.Errorf("manifest header = format %d, created %v, signer %s, tool %q", m.Format, m.Created, m.Signer, m.Tool)
	}
	if len(m.Entries) != 1 {
		t.Fatalf("manifest lists %d entries, want 1", len(m.Entries))
	}
	e := m.Entries[0]
	if e.Path != goldenPath || e.Size <= 0 || !manifest.IsSHA256Hex(e.SHA256) || e.Image == nil {
		t.Fatalf("entry = %+v", e)
	}
	img := *e.Image
	if img.Source != goldenImage.Source || img.Digest != goldenImage.Digest || img.IndexDigest != "" ||
		img.Platform != "linux/amd64" || img.Name != "hello" || img.Version != "1.0" ||
		img.Key != "hello/hello-1.0.tgz" || img.RootfsFormat != 1 {
		t.Errorf("image = %+v", img)
	}
	md := img.Metadata
	if !slices.Equal(md.Cmd, []string{"/hello"}) || len(md.Entrypoint) != 0 || md.Entrypoint == nil ||
		!slices.Equal(md.Env, []string{"PATH=/usr/bin:/bin"}) || md.User != "1000" {
		t.Errorf("metadata = %+v", md)
	}
}

func checkGoldenRootfs(t *testing.T, tgz []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if want := []string{"metadata.json", "rootfs/", "rootfs/hello"}; !slices.Equal(names, want) {
		t.Errorf("rootfs tgz holds %v, want %v", names, want)
	}
}
