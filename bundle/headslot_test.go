package bundle_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// slotKey makes a key in dir, returning it and the trusted public key.
func slotKey(t *testing.T, dir string) (ed25519.PrivateKey, []keys.Public) {
	t.Helper()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
	priv, err := keys.LoadPrivate(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return priv, []keys.Public{pub}
}

// slotted writes a format 2 bundle whose head is padded by a HEAD.pad of
// pad bytes (fill: the pad's bytes) after manifest.json, as a writer that
// reserves a head slot does (docs/format-v2.md section 5).
func slotted(t *testing.T, padTo int64, fill byte) (string, []keys.Public, int) {
	t.Helper()
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	member := []byte("\x1f\x8b member bytes")
	sum := sha(member)
	key := "app/app-1.0.tgz"
	obj := manifest.Entry{Path: manifest.ImagesFolder + key, Size: int64(len(member)), SHA256: sum, TarSize: 1024,
		Image: &manifest.Image{Name: "app", Version: "1.0", Key: key}, Members: []string{sum}, Recipe: manifest.RecipePath(key)}
	recipe, tgzsums := manifest.RecipeBytes(&obj), manifest.TGZSums([]manifest.Entry{obj})
	var entries []manifest.Entry
	var files []bundletest.File
	for _, f := range []bundletest.File{{Name: manifest.MemberPath(sum), Body: member}, {Name: obj.Recipe, Body: recipe}, {Name: manifest.TGZSumsName, Body: tgzsums}} {
		entries = append(entries, manifest.Entry{Path: f.Name, Size: int64(len(f.Body)), SHA256: sha(f.Body)})
		files = append(files, f)
	}
	m := &manifest.Manifest{Format: manifest.FormatV2, Created: bundletest.Created, Signer: keys.ID(priv.Public().(ed25519.PublicKey)), Entries: entries, Images: []manifest.Entry{obj}}
	head, err := bundletest.Head(priv, m)
	if err != nil {
		t.Fatal(err)
	}
	var used int64
	for _, f := range head {
		used += 512 + (int64(len(f.Body))+511)/512*512
	}
	pad := padTo - used - 512
	head = append(head, bundletest.File{Name: manifest.HeadPadName, Body: bytes.Repeat([]byte{fill}, int(pad))})
	path := filepath.Join(dir, "b.tar")
	if err := bundletest.WriteTar(path, bundletest.Created, append(head, files...)); err != nil {
		t.Fatal(err)
	}
	return path, trusted, len(entries)
}

func TestHeadSlotIsSkipped(t *testing.T) {
	path, trusted, n := slotted(t, 1<<20, 0)
	r, err := bundle.Open([]string{path}, trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("read %d entries after the head slot, want %d", got, n)
	}
}

func TestHeadSlotRules(t *testing.T) {
	for name, tc := range map[string]struct {
		padTo int64
		fill  byte
		want  string
	}{
		"non-zero pad":       {1 << 20, 'x', "not zero"},
		"off a MiB boundary": {1<<20 + 512, 0, "not on a multiple"},
	} {
		path, trusted, _ := slotted(t, tc.padTo, tc.fill)
		r, err := bundle.Open([]string{path}, trusted)
		if err == nil {
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), manifest.HeadPadName) {
			t.Errorf("%s: Open = %v, want a failure naming %s and saying %q", name, err, manifest.HeadPadName, tc.want)
		}
	}
}
