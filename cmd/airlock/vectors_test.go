package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"github.com/airlockhq/airlock/verify"
)

var updateVectors = flag.Bool("update", false, "rewrite the test vectors in ../../testdata/vectors")

// The test vectors (docs/format.md section 13) are bundles a reader must
// accept or reject, each with its verdict in vectors.json, for airlock's
// reader and any other. Regenerate them with
// `go test ./cmd/airlock -run TestVectors -update`, never by hand.
const vectorsDir = "../../testdata/vectors"

// vectorFile is vectors.json.
type vectorFile struct {
	Format  int      `json:"format"` // 1
	Note    string   `json:"note"`
	Classes []string `json:"classes"` // every class a verdict may name
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name    string   `json:"name"`
	About   string   `json:"about"`
	Files   []string `json:"files"`   // the arguments of the reader, as airlock verify takes them
	Trusted []string `json:"trusted"` // the public keys the reader trusts
	Verdict verdict  `json:"verdict"`
}

type verdict struct {
	ExitCode int    `json:"exit_code"` // as airlock verify exits
	Class    string `json:"class"`     // one of vectorClasses
}

// vectorClasses are the kinds of verdict, docs/format.md section 13.
var vectorClasses = []string{"ok", "signature", "format", "manifest_rule", "checksum", "missing_entry", "extra_entry", "truncated"}

// reasonClasses tell a verification failure's class by its Reason, in
// this order.
var reasonClasses = []struct{ reason, class string }{
	{"breaks a rule", "manifest_rule"},
	{"is not supported", "format"},
	{"sha256", "checksum"},
	{"ends early", "truncated"},
	{"missing from the bundle", "missing_entry"},
	{"not listed in the signed manifest", "extra_entry"},
}

// vectorClass is the class of airlock verify's error. A verification
// failure is a *verify.Error whose Reason says what failed; the class is
// read from it.
func vectorClass(err error) string {
	var ve *verify.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, verify.ErrUntrustedSignature):
		return "signature"
	case !errors.As(err, &ve):
		return "unknown: " + err.Error()
	}
	for _, c := range reasonClasses {
		if strings.Contains(ve.Reason, c.reason) {
			return c.class
		}
	}
	return "unknown: " + err.Error()
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		writeVectors(t)
	}
	raw, err := os.ReadFile(filepath.Join(vectorsDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	if vf.Format != 1 || len(vf.Vectors) == 0 || !slices.Equal(vf.Classes, vectorClasses) {
		t.Fatalf("vectors.json: format %d, %d vectors, classes %v", vf.Format, len(vf.Vectors), vf.Classes)
	}
	checkVectorSet(t, vf)
	for _, v := range vf.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			var pubs, files []string
			for _, p := range v.Trusted {
				pubs = append(pubs, filepath.Join(vectorsDir, p))
			}
			for _, f := range v.Files {
				files = append(files, filepath.Join(vectorsDir, f))
			}
			ctx := context.Background()
			err := runVerify(ctx, verifyOptions{pubs: pubs}, files, streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
			got := verdict{ExitCode: exitCode(ctx, err), Class: vectorClass(err)}
			if got != v.Verdict {
				t.Errorf("%s (%s): verdict %+v, want %+v (error: %v)", v.Name, v.About, got, v.Verdict, err)
			}
		})
	}
}

// checkVectorSet fails t when a class has no vector or a bundle file in
// the folder belongs to none (a vector left behind by the generator).
func checkVectorSet(t *testing.T, vf vectorFile) {
	t.Helper()
	classes, used := map[string]bool{}, map[string]bool{}
	for _, v := range vf.Vectors {
		classes[v.Verdict.Class] = true
		for _, f := range v.Files {
			used[strings.SplitN(f, ".", 2)[0]] = true
		}
	}
	for _, c := range vectorClasses {
		if !classes[c] {
			t.Errorf("vectors.json: no vector of class %s", c)
		}
	}
	all, err := filepath.Glob(filepath.Join(vectorsDir, "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		name := filepath.Base(p)
		if base := strings.SplitN(name, ".", 2)[0]; !used[base] && !slices.Contains([]string{"vectors", "other", "README"}, base) {
			t.Errorf("%s belongs to no vector in vectors.json", name)
		}
	}
}

// vectorImage is the image entry of the crafted vectors.
func vectorImage() *manifest.Image {
	return &manifest.Image{Source: "registry.example/team/app:1.0", Digest: "sha256:" + strings.Repeat("ab", 32),
		Platform: "linux/amd64", Name: "app", Version: "1.0", Key: "app/app-1.0.tgz", Regexp: `app/app-(.*)\.tgz`,
		RootfsFormat: 2, Compression: manifest.CompressionDefault,
		Metadata: concourse.Metadata{Cmd: []string{"/app"}, Env: []string{"PATH=/usr/bin:/bin"}, User: "1000"}}
}

var vectorCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// vectorRootfs is a tiny Concourse rootfs tgz: metadata.json and rootfs/.
func vectorRootfs(t *testing.T) []byte {
	t.Helper()
	tgz, err := bundletest.RootfsTgz(vectorCreated, []bundletest.File{
		{Name: "metadata.json", Body: []byte(`{"cmd":["/app"],"entrypoint":null,"env":["PATH=/usr/bin:/bin"],"user":"1000"}` + "\n")},
		{Name: "rootfs/"},
		{Name: "rootfs/app", Body: []byte("#!/bin/sh\necho app\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tgz
}

// crafted is a bundle written around the signed head, as a hostile or
// broken writer could: the manifest lists entries, the tar holds payloads.
type crafted struct {
	m        *manifest.Manifest
	payloads []bundletest.File
	signer   ed25519.PrivateKey
	damage   func(files []bundletest.File) // changes the entries after signing
}

func vectorKey(t *testing.T, base string) ed25519.PrivateKey {
	t.Helper()
	priv, err := bundletest.Key(base)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// writeVectors rewrites testdata/vectors, keeping its keys.
func writeVectors(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll(vectorsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, glob := range []string{"*.tar*", "*.parts.sha256*", "*.parity.*"} {
		old, _ := filepath.Glob(filepath.Join(vectorsDir, glob))
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	priv := vectorKey(t, filepath.Join(vectorsDir, "vectors"))
	other := vectorKey(t, filepath.Join(vectorsDir, "other"))
	tgz := vectorRootfs(t)
	trusted := []string{"vectors.pub"}
	var vs []vector
	add := func(name, about string, v verdict, files ...string) {
		vs = append(vs, vector{Name: name, About: about, Files: files, Trusted: trusted, Verdict: v})
	}
	ok := verdict{0, "ok"}

	// Written by airlock's own writer.
	img := vectorImage()
	payloads := []bundle.Payload{{Path: manifest.ImagesFolder + img.Key, Image: img, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tgz)), nil
	}}}
	if _, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-unsplit"), priv, payloads,
		bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors")); err != nil {
		t.Fatal(err)
	}
	add("good-unsplit", "one bundle file holding one image", ok, "good-unsplit.tar")
	res, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-split"), priv, payloads,
		bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors"), bundle.WithPartSize(1024), bundle.WithParity(1))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, f := range res.Files {
		parts = append(parts, filepath.Base(f))
	}
	add("good-split", "the same split into 1024-byte parts, with a signed part index and one parity part beside them", ok, parts...)

	// Crafted around a signed head.
	entry := func(im *manifest.Image, body []byte) manifest.Entry {
		return manifest.Entry{Path: manifest.ImagesFolder + im.Key, Image: im, Size: int64(len(body)), SHA256: sha256Hex(body)}
	}
	good := func() crafted {
		im := vectorImage()
		return crafted{m: &manifest.Manifest{Format: manifest.FormatVersion, Created: vectorCreated, Signer: keys.ID(priv.Public().(ed25519.PublicKey)),
			Tool: "airlock test vectors", Entries: []manifest.Entry{entry(im, tgz)}},
			payloads: []bundletest.File{{Name: manifest.ImagesFolder + im.Key, Body: tgz}}, signer: priv}
	}
	withImage := func(change func(im *manifest.Image)) crafted {
		c := good()
		change(c.m.Entries[0].Image)
		c.m.Entries[0].Path = manifest.ImagesFolder + c.m.Entries[0].Image.Key
		c.payloads[0].Name = c.m.Entries[0].Path
		return c
	}
	withBinary := func(b manifest.Binary, path string) crafted {
		c := good()
		if path == "" {
			path = b.Path()
		}
		body := []byte("#!/bin/sh\necho carried airlock\n")
		c.m.Entries = append(c.m.Entries, manifest.Entry{Path: path, Binary: &b, Size: int64(len(body)), SHA256: sha256Hex(body)})
		c.payloads = append(c.payloads, bundletest.File{Name: path, Body: body})
		return c
	}
	signature := verdict{3, "signature"}
	rule := verdict{3, "manifest_rule"}
	cases := []struct {
		name, about string
		c           crafted
		v           verdict
	}{
		{"bad-signature", "SHA256SUMS.sig has one bit flipped", func() crafted {
			c := good()
			c.damage = func(files []bundletest.File) { files[1].Body[0] ^= 1 }
			return c
		}(), signature},
		{"wrong-key", "signed by other.key, a key the reader does not trust", func() crafted {
			c := good()
			c.signer = other
			c.m.Signer = keys.ID(other.Public().(ed25519.PublicKey))
			return c
		}(), signature},
		{"bad-entry-sha256", "the payload's bytes differ from its signed SHA-256 (same size)", func() crafted {
			c := good()
			c.payloads[0].Body = append([]byte(nil), tgz...)
			c.payloads[0].Body[len(tgz)-1] ^= 1
			return c
		}(), verdict{3, "checksum"}},
		{"missing-entry", "the manifest lists a second entry the tar does not hold", func() crafted {
			c := good()
			c.m.Entries = append(c.m.Entries, manifest.Entry{Path: "notes/readme.txt", Size: 6, SHA256: sha256Hex([]byte("hello\n"))})
			return c
		}(), verdict{3, "missing_entry"}},
		{"extra-entry", "the tar holds an entry the manifest does not list", func() crafted {
			c := good()
			c.payloads = append(c.payloads, bundletest.File{Name: "notes/readme.txt", Body: []byte("hello\n")})
			return c
		}(), verdict{3, "extra_entry"}},
		{"bad-name", "an image name with upper-case letters, App (rule 1)", withImage(func(im *manifest.Image) {
			im.Name, im.Key, im.Regexp = "App", "App/App-1.0.tgz", `App/App-(.*)\.tgz`
		}), rule},
		{"bad-version", "a version with an empty component, 1..0 (rule 2)", withImage(func(im *manifest.Image) {
			im.Version, im.Key = "1..0", "app/app-1..0.tgz"
		}), rule},
		{"bad-key", "a key that does not end in .tgz or .tar.gz (rule 3)", withImage(func(im *manifest.Image) {
			im.Key, im.Regexp = "app/app-1.0.zip", `app/app-(.*)\.zip`
		}), rule},
		{"bad-regexp", "a regexp that does not match the key (rule 7)", withImage(func(im *manifest.Image) {
			im.Regexp = `app/app-(.*)\.tar\.gz`
		}), rule},
		{"unknown-format", "manifest.json format 3, a version this reader does not know", func() crafted {
			c := good()
			c.m.Format = 3
			return c
		}(), verdict{3, "format"}},
		{"unknown-rootfs-format", "rootfs_format 99: a record of the conversion, accepted whatever its value", withImage(func(im *manifest.Image) {
			im.RootfsFormat = 99
		}), ok},
		{"bad-lint", "a lint finding whose message holds a terminal escape sequence (rule 9)", withImage(func(im *manifest.Image) {
			im.Lint = &manifest.Lint{Files: 1, UncompressedSize: 6, Findings: []manifest.Finding{
				{Check: "capability", Severity: manifest.SeverityWarning, Path: "bin/ping", Message: "fine\x1b[2K\rnothing found"}}}
		}), rule},
		{"unknown-lint-check", "a lint finding of a check this reader does not know: accepted, as a newer writer's", withImage(func(im *manifest.Image) {
			im.Lint = &manifest.Lint{Files: 1, UncompressedSize: 6, Findings: []manifest.Finding{
				{Check: "newer-check", Severity: manifest.SeverityInfo, Message: "something a newer airlock checks"}}}
		}), ok},
		{"bad-identity", "an upstream signature record whose certificate identity holds a terminal escape sequence (section 12)", withImage(func(im *manifest.Image) {
			im.Signature = &manifest.Signature{Status: "verified", SignedDigest: im.Digest, Bundles: []string{im.Digest},
				Identities: []manifest.Identity{{Subject: "https://github.com/acme/\x1b[2Kok", Issuer: "https://token.actions.githubusercontent.com"}}}
		}), rule},
		{"carried-binary", "an airlock binary carried beside the image (section 14)", withBinary(manifest.Binary{Version: "v1.4.0", Platform: "linux/amd64"}, ""), ok},
		{"bad-binary-path", "a carried airlock binary whose path does not follow from its version and platform (section 14)",
			withBinary(manifest.Binary{Version: "v1.4.0", Platform: "linux/amd64"}, "airlock/v1.4.0/airlock"), rule},
		{"truncated-tar", "the stream ends inside the payload entry, without the end-of-archive marker", func() crafted {
			c := good()
			c.damage = func([]bundletest.File) {}
			return c
		}(), verdict{3, "truncated"}},
	}
	for _, tc := range cases {
		path := filepath.Join(vectorsDir, tc.name+".tar")
		head, err := bundletest.Head(tc.c.signer, tc.c.m)
		if err != nil {
			t.Fatal(err)
		}
		files := append(head, tc.c.payloads...)
		if tc.c.damage != nil {
			tc.c.damage(files)
		}
		if err := bundletest.WriteTar(path, vectorCreated, files); err != nil {
			t.Fatal(err)
		}
		if tc.name == "truncated-tar" {
			truncateVector(t, path)
		}
		add(tc.name, tc.about, tc.v, tc.name+".tar")
	}
	writeV2Vectors(t, priv, add)
	vf := vectorFile{Format: 1, Classes: vectorClasses, Vectors: vs,
		Note: "Generated by `go test ./cmd/airlock -run TestVectors -update`; never edit by hand. " +
			"vectors.key and other.key are TEST-ONLY private keys, committed on purpose. See docs/format.md section 13."}
	raw, err := json.MarshalIndent(vf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vectorsDir, "vectors.json"), append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// truncateVector cuts the end-of-archive marker and the last data block
// off the tar at path, so the stream ends inside its last entry.
func truncateVector(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-1024-512); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
