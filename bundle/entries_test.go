package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// A valid signature does not make a manifest well formed: a reader refuses
// image entries that break the rules of docs/format.md section 5 as a
// verification failure naming the entry, before reading any payload.
func TestSignedBadImageEntries(t *testing.T) {
	img := func(name, version, key, re string) *manifest.Image {
		return &manifest.Image{Name: name, Version: version, Key: key, Regexp: re, Platform: "linux/amd64"}
	}
	tests := []struct {
		name    string
		entries []manifest.Entry
		entry   string
		rule    string
	}{
		{"empty key", []manifest.Entry{{Path: "images/app/app-1.tgz", Image: img("app", "1", "", "")}}, "images/app/app-1.tgz", "empty key"},
		{"key into the record area", []manifest.Entry{{Path: "images/.airlock/bundles/x/SHA256SUMS.tgz", Image: img("app", "1", ".airlock/bundles/x/SHA256SUMS.tgz", "")}},
			"images/.airlock/bundles/x/SHA256SUMS.tgz", `starting with "."`},
		{"key leaves its folder", []manifest.Entry{{Path: "images/other/app-1.tgz", Image: img("app", "1", "other/app-1.tgz", "")}}, "images/other/app-1.tgz", "not inside the folder app/"},
		{"key with dot dot", []manifest.Entry{{Path: "images/app/x.tgz", Image: img("app", "1", "app/../app/x.tgz", "")}}, "images/app/x.tgz", "clean relative key"},
		{"key differs from path", []manifest.Entry{{Path: "images/app/app-1.tgz", Image: img("app", "1", "app/app-2.tgz", "")}}, "images/app/app-1.tgz", "does not match the entry path"},
		{"version the resource cannot parse", []manifest.Entry{{Path: "images/app/app-1..2.tgz", Image: img("app", "1..2", "app/app-1..2.tgz", "")}}, "images/app/app-1..2.tgz", "image version"},
		{"name that injects YAML", []manifest.Entry{{Path: "images/app/app-1.tgz", Image: img("app\nprivileged: true", "1", "app/app-1.tgz", "")}}, "images/app/app-1.tgz", "image name"},
		{"regexp that misses the key", []manifest.Entry{{Path: "images/app/app-1.tgz", Image: img("app", "1", "app/app-1.tgz", `app/x-(.*)\.tgz`)}}, "images/app/app-1.tgz", "does not match key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := filepath.Join(f.dir, "bad.tar")
			bodies := make([][]byte, len(tt.entries))
			for i := range bodies {
				bodies[i] = []byte("payload")
			}
			if err := bundletest.WriteSigned(p, f.priv, tt.entries, bodies); err != nil {
				t.Fatal(err)
			}
			_, err := bundle.Open([]string{p}, f.trusted)
			var ve *verify.Error
			if !errors.As(err, &ve) || ve.Entry != tt.entry {
				t.Fatalf("Open = %v, want a *verify.Error for entry %s", err, tt.entry)
			}
			wantErr(t, err, tt.rule, "signed manifest.json")
		})
	}
}

// Two entries with one key: the paths differ only in what the reader
// checks, so one image would silently replace the other.
func TestSignedDuplicateKeys(t *testing.T) {
	f := newFixture(t)
	p := filepath.Join(f.dir, "dup.tar")
	im := &manifest.Image{Name: "app", Version: "1", Key: "app/app-1.tgz"}
	entries := []manifest.Entry{{Path: "images/app/app-1.tgz", Image: im}, {Path: "images/app/app-1.tgz", Image: im}}
	if err := bundletest.WriteSigned(p, f.priv, entries, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	_, err := bundle.Open([]string{p}, f.trusted)
	if !verify.IsFailure(err) {
		t.Fatalf("Open = %v, want a verification failure", err)
	}
	wantErr(t, err, "images/app/app-1.tgz")
}

// The writer applies the same rules before writing anything.
func TestWriteRefusesBadImageEntries(t *testing.T) {
	f := newFixture(t)
	payloads := []bundle.Payload{{
		Path:  "images/app/app-1.tgz",
		Image: &manifest.Image{Name: "app", Version: "1", Key: "app/app-1.tgz", Regexp: `app/app-1\.tgz`},
		Open:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("x"))), nil },
	}}
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "w"), f.priv, payloads)
	wantErr(t, err, "images/app/app-1.tgz", "no group")
	assertNoBundleFiles(t, f.dir)
}
