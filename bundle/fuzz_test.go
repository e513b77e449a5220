package bundle_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/verify"
)

// FuzzOpen reads arbitrary bytes, and mutations of the golden bundle, as a
// bundle (whole, or split in two parts at cut). The reader must never panic
// or loop, and must accept nothing but what the golden key signed: an
// Ed25519 signature cannot be forged, so an accepted bundle carries the
// golden SHA256SUMS and manifest, and every entry it passes on is the golden
// payload.
func FuzzOpen(f *testing.F) {
	pub, err := keys.LoadPublic(goldenPub)
	if err != nil {
		f.Fatal(err)
	}
	trusted := []keys.Public{pub}
	golden := readFileF(f, goldenBase+".tar")
	want, err := bundle.Open([]string{goldenBase + ".tar"}, trusted)
	if err != nil {
		f.Fatal(err)
	}
	want.Close()

	f.Add(golden, uint16(0))
	f.Add(golden, uint16(goldenPartSize))
	f.Add(golden, uint16(700))
	f.Add(golden[:len(golden)-1024], uint16(0)) // no end-of-archive marker
	f.Add(golden[:3000], uint16(1000))          // ends inside the payload
	f.Add([]byte{}, uint16(0))
	f.Add(make([]byte, 1024), uint16(0))

	dir := f.TempDir() // one folder per fuzzing process: t.TempDir per input is slow
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		for _, p := range []string{"b.tar", "b.tar.001", "b.tar.002"} {
			os.Remove(filepath.Join(dir, p))
		}
		args := []string{filepath.Join(dir, "b.tar")}
		if c := int(cut); c > 0 && c < len(data) {
			args = []string{filepath.Join(dir, "b.tar.001"), filepath.Join(dir, "b.tar.002")}
			writeFile(t, args[0], data[:c])
			writeFile(t, args[1], data[c:])
			args = args[:1]
		} else {
			writeFile(t, args[0], data)
		}
		r, err := bundle.Open(args, trusted)
		if err != nil {
			return
		}
		defer r.Close()
		if _, err := verify.Signature(r.Sums, r.Sig, trusted); err != nil {
			t.Fatalf("accepted a bundle whose signature does not verify: %v", err)
		}
		if !bytes.Equal(r.Sums, want.Sums) || !bytes.Equal(r.Raw, want.Raw) || r.ID != want.ID {
			t.Fatalf("accepted a head the golden key never signed:\n%s\n%s", r.Sums, r.Raw)
		}
		for range len(r.Manifest.Entries) + 2 {
			e, err := r.Next()
			if err != nil { // io.EOF after the last entry, or a rejection
				return
			}
			b, err := io.ReadAll(e)
			if err != nil {
				return
			}
			sum := sha256.Sum256(b)
			if int64(len(b)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
				t.Fatalf("entry %s passed on %d bytes with sha256 %x, the manifest says %d bytes %s", e.Path, len(b), sum, e.Size, e.SHA256)
			}
		}
		t.Fatalf("Next did not end after %d entries", len(r.Manifest.Entries)+2)
	})
}

func readFileF(f *testing.F, p string) []byte {
	f.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
