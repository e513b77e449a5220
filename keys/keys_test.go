package keys

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateAndLoad(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "k")
	id, err := Generate(base)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := LoadPrivate(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublic(base + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Key.Equal(priv.Public()) || pub.ID != id || len(id) != 16 {
		t.Fatalf("key pair does not match: id %q, pub id %q", id, pub.ID)
	}
	sig := ed25519.Sign(priv, []byte("x"))
	if !ed25519.Verify(pub.Key, []byte("x"), sig) {
		t.Fatal("loaded keys do not sign and verify")
	}
	if fi, _ := os.Stat(base + ".key"); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %o, want 600", fi.Mode().Perm())
	}
	if _, err := Generate(base); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Generate: %v", err)
	}
}

func TestLoadTrusted(t *testing.T) {
	dir := t.TempDir()
	Generate(filepath.Join(dir, "a"))
	Generate(filepath.Join(dir, "b"))
	got, warnings, err := LoadTrusted([]string{dir})
	if err != nil || len(got) != 2 || len(warnings) != 0 {
		t.Fatalf("LoadTrusted(dir) = %d keys, %v", len(got), err)
	}
	empty := t.TempDir()
	if _, _, err := LoadTrusted([]string{empty}); err == nil || !strings.Contains(err.Error(), "no *.pub file") {
		t.Errorf("empty dir: %v", err)
	}
	if _, _, err := LoadTrusted(nil); err == nil {
		t.Error("no keys accepted")
	}
}

func TestLoadRejectsNonKeys(t *testing.T) {
	dir := t.TempDir()
	Generate(filepath.Join(dir, "k"))
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a key\n"), 0o644)
	cases := []struct {
		load    func() error
		mention string
	}{
		{func() error { _, err := LoadPublic(junk); return err }, "not a PEM key"},
		{func() error { _, err := LoadPrivate(junk); return err }, "not a PEM key"},
		{func() error { _, err := LoadPublic(filepath.Join(dir, "k.key")); return err }, "pass the .pub file"},
		{func() error { _, err := LoadPrivate(filepath.Join(dir, "k.pub")); return err }, `expected "PRIVATE KEY"`},
		{func() error { _, err := LoadPublic(filepath.Join(dir, "missing.pub")); return err }, "missing.pub"},
	}
	for i, c := range cases {
		if err := c.load(); err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("case %d: err = %v, want it to mention %q", i, err, c.mention)
		}
	}
}

func TestCheckPrivateMode(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "k")
	if _, err := Generate(base); err != nil {
		t.Fatal(err)
	}
	if w := CheckPrivateMode(base + ".key"); w != nil {
		t.Errorf("a key from Generate (mode 0600) gives warning %v", w)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(base+".key", mode); err != nil {
			t.Fatal(err)
		}
		w := CheckPrivateMode(base + ".key")
		if w == nil || w.Path != base+".key" || !strings.Contains(w.Reason, "readable by group or others") {
			t.Errorf("mode %04o: warning %v", mode, w)
		}
	}
	if err := os.Chmod(base+".key", 0o400); err != nil {
		t.Fatal(err)
	}
	if w := CheckPrivateMode(base + ".key"); w != nil {
		t.Errorf("mode 0400 gives warning %v", w)
	}
}
