package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type entry struct {
	name, link, body string
	typ              byte
}

func writeLayer(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644,
			Uid: 1000, Gid: 1000, Uname: "someone", Gname: "staff", Size: int64(len(e.body))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTgz returns the entries of a tgz file in order.
func readTgz(t *testing.T, path string) []*tar.Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []*tar.Header
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdr.PAXRecords = map[string]string{"body": string(body)} // carried for the checks
		out = append(out, hdr)
	}
}

func TestPipelineRenamesAndClearsOwners(t *testing.T) {
	dir := t.TempDir()
	top, bottom := filepath.Join(dir, "top.tgz"), filepath.Join(dir, "bottom.tgz")
	writeLayer(t, top, []entry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/hostname", typ: tar.TypeReg, body: "top\n"},
		{name: "etc/.wh.motd", typ: tar.TypeReg},
	})
	writeLayer(t, bottom, []entry{
		{name: "./usr/", typ: tar.TypeDir},
		{name: "./usr/bin/tool", typ: tar.TypeReg, body: strings.Repeat("tool", 1000)},
		{name: "./usr/bin/tool2", typ: tar.TypeLink, link: "./usr/bin/tool"},
		{name: "./usr/bin/sh", typ: tar.TypeSymlink, link: "../../bin/bash"},
	})
	other := filepath.Join(dir, "other.tgz")
	writeLayer(t, other, []entry{{name: "only", typ: tar.TypeReg, body: "x"}})

	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	err := runPipeline([]string{"-j", "2", "-o", out, top + "," + bottom, other}, &stdout)
	if err != nil {
		t.Fatal(err)
	}

	got := readTgz(t, filepath.Join(out, "001.tgz"))
	want := []struct{ name, link, body string }{
		{"rootfs/etc/", "", ""},
		{"rootfs/etc/hostname", "", "top\n"},
		{"rootfs/etc/.wh.motd", "", ""}, // whiteouts are copied, not applied
		{"rootfs/usr/", "", ""},
		{"rootfs/usr/bin/tool", "", strings.Repeat("tool", 1000)},
		{"rootfs/usr/bin/tool2", "rootfs/usr/bin/tool", ""},
		{"rootfs/usr/bin/sh", "../../bin/bash", ""}, // symlink targets stay as they are
	}
	if len(got) != len(want) {
		t.Fatalf("001.tgz has %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Linkname != w.link || g.PAXRecords["body"] != w.body {
			t.Errorf("entry %d: got %q → %q (%d bytes), want %q → %q (%d bytes)",
				i, g.Name, g.Linkname, len(g.PAXRecords["body"]), w.name, w.link, len(w.body))
		}
		if g.Uname != "" || g.Gname != "" || g.Uid != 1000 || g.Gid != 1000 {
			t.Errorf("%s: owner %q/%q %d/%d, want names cleared and ids kept", g.Name, g.Uname, g.Gname, g.Uid, g.Gid)
		}
	}
	if got := readTgz(t, filepath.Join(out, "002.tgz")); len(got) != 1 || got[0].Name != "rootfs/only" {
		t.Errorf("002.tgz: got %d entries, want rootfs/only alone", len(got))
	}

	// The reported hashes and sizes are those of the files.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[2], "total ") {
		t.Fatalf("output %q: want two image lines and a total", stdout.String())
	}
	for i, l := range lines[:2] {
		b, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("%03d.tgz", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		f := strings.Fields(l)
		if f[0] != hex.EncodeToString(sum[:]) || f[1] != fmt.Sprint(len(b)) {
			t.Errorf("line %q: want sha256 %x and %d bytes", l, sum, len(b))
		}
	}
}

func TestPipelineRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{dir + "/missing.tgz"},                   // no -o
		{"-o", dir + "/o", dir + "/missing.tgz"}, // no such layer
		{"-o", dir + "/o", "-level", "12", "x"},  // bad level
		{"-o", dir + "/o"},                       // no images
	} {
		if err := runPipeline(args, io.Discard); err == nil {
			t.Errorf("runPipeline(%q): no error", args)
		}
	}
}

// TestPipelineVerify: with -verify, a blob named by its digest converts to
// the same tgz as without; one whose bytes are not its name, or whose name
// is not a digest, fails the run, naming the blob.
func TestPipelineVerify(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "layer")
	writeLayer(t, tmp, []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/hosts", body: "127.0.0.1 localhost\n", typ: tar.TypeReg}})
	b, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	good := filepath.Join(dir, hex.EncodeToString(sum[:]))
	if err := os.Rename(tmp, good); err != nil {
		t.Fatal(err)
	}
	var plain, verified strings.Builder
	if err := runPipeline([]string{"-o", dir + "/plain", good}, &plain); err != nil {
		t.Fatal(err)
	}
	if err := runPipeline([]string{"-verify", "-o", dir + "/verified", good}, &verified); err != nil {
		t.Fatalf("-verify on a blob named by its digest: %v", err)
	}
	if p, v := strings.Fields(plain.String())[0], strings.Fields(verified.String())[0]; p != v {
		t.Errorf("-verify changed the output: sha256 %s, without it %s", v, p)
	}

	wrong := sha256.Sum256([]byte("another blob"))
	bad := filepath.Join(dir, hex.EncodeToString(wrong[:]))
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = runPipeline([]string{"-verify", "-o", dir + "/bad", bad}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), hex.EncodeToString(sum[:])) {
		t.Errorf("-verify on a blob whose bytes are not its name: %v, want an error naming it and its real digest", err)
	}
	if err := runPipeline([]string{"-o", dir + "/unchecked", bad}, io.Discard); err != nil {
		t.Errorf("without -verify the name is not checked: %v", err)
	}
	if err := runPipeline([]string{"-verify", "-o", dir + "/noname", filepath.Join(dir, "plain", "001.tgz")}, io.Discard); err == nil || !strings.Contains(err.Error(), "001.tgz") {
		t.Errorf("-verify on a blob not named by a digest: %v, want an error naming it", err)
	}
}

// TestSalt: every regular file starts with the salt line, nothing else
// changes.
func TestSalt(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.tar.gz"), filepath.Join(dir, "out.tar.gz")
	writeLayer(t, in, []entry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/a", body: "alpha", typ: tar.TypeReg},
		{name: "etc/l", link: "a", typ: tar.TypeSymlink},
		{name: "etc/empty", typ: tar.TypeReg},
	})
	if err := runSalt([]string{"img-7", in, out}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[hdr.Name] = fmt.Sprintf("%c:%s:%s", hdr.Typeflag, hdr.Linkname, b)
	}
	want := map[string]string{
		"etc/":      "5::",
		"etc/a":     "0::# img-7 .......\nalpha",
		"etc/l":     "2:a:",
		"etc/empty": "0::# img-7 .......\n",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entries, want %d", len(got), len(want))
	}
}

// TestPipelinePull: with -pull the pipeline reads the same layers from a
// registry and writes the same tgz as from the blobs on disk.
func TestPipelinePull(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "layer")
	writeLayer(t, blob, []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/hosts", body: "127.0.0.1 localhost\n", typ: tar.TypeReg}})
	layer, err := tarball.LayerFromFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/bench/pulled:1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	var disk, pulled strings.Builder
	if err := runPipeline([]string{"-o", dir + "/disk", blob}, &disk); err != nil {
		t.Fatal(err)
	}
	if err := runPipeline([]string{"-pull", "-o", dir + "/pulled", ref}, &pulled); err != nil {
		t.Fatalf("-pull %s: %v", ref, err)
	}
	if d, p := strings.Fields(disk.String())[0], strings.Fields(pulled.String())[0]; d != p {
		t.Errorf("-pull wrote a tgz with sha256 %s, from the blob on disk %s", p, d)
	}
	if err := runPipeline([]string{"-pull", "-o", dir + "/missing", strings.TrimPrefix(srv.URL, "http://") + "/bench/none:1"}, io.Discard); err == nil || !strings.Contains(err.Error(), "image 1") {
		t.Errorf("-pull of an image the registry lacks: %v, want an error naming it", err)
	}
}
