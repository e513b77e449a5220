// Package bundletest writes signed bundles whose manifest.json says
// whatever a test wants, bypassing the checks bundle.Write makes, as an
// older, buggy or hostile exporter holding a trusted key could.
package bundletest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// Created is the creation time of the bundles WriteSigned writes.
var Created = time.Unix(1700000000, 0).UTC()

// File is one tar entry of a crafted bundle.
type File struct {
	Name string
	Body []byte
}

// WriteSigned writes a one-file bundle at path holding entries with the
// given bodies, in order. Each entry's Size and SHA256 are set from its
// body; Image is kept as given. Format, Created and Signer are filled in.
func WriteSigned(path string, priv ed25519.PrivateKey, entries []manifest.Entry, bodies [][]byte) error {
	m := &manifest.Manifest{Format: manifest.FormatVersion, Created: Created,
		Signer: keys.ID(priv.Public().(ed25519.PublicKey)), Entries: entries}
	for i := range entries {
		h := sha256.Sum256(bodies[i])
		entries[i].Size, entries[i].SHA256 = int64(len(bodies[i])), hex.EncodeToString(h[:])
	}
	head, err := Head(priv, m)
	if err != nil {
		return err
	}
	files := head
	for i, e := range entries {
		files = append(files, File{e.Path, bodies[i]})
	}
	return WriteTar(path, Created, files)
}

// Head returns the three signed entries that begin a bundle of m, as
// written: SHA256SUMS (from m's entries as they are), its signature by
// priv, and manifest.json.
func Head(priv ed25519.PrivateKey, m *manifest.Manifest) ([]File, error) {
	raw, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(raw)
	sums := manifest.FormatSums(m.Sums(hex.EncodeToString(h[:])))
	return []File{{manifest.SumsName, sums}, {manifest.SigName, verify.Sign(priv, sums)}, {manifest.ManifestName, raw}}, nil
}

// WriteTar writes files as a tar stream at path, as a bundle's entries
// are written (regular files, mode 0644, mtime created).
func WriteTar(path string, created time.Time, files []File) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, file := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: file.Name, Mode: 0o644, Size: int64(len(file.Body)), ModTime: created, Format: tar.FormatPAX}
		if err == nil {
			err = tw.WriteHeader(hdr)
		}
		if err == nil {
			_, err = tw.Write(file.Body)
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// RootfsTgz returns a tiny Concourse rootfs tgz holding files (a name
// ending in "/" is a directory), as a test payload.
func RootfsTgz(created time.Time, files []File) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: 0o644, ModTime: created, Typeflag: tar.TypeReg, Size: int64(len(f.Body))}
		if strings.HasSuffix(f.Name, "/") {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Key loads the TEST-ONLY private key base.key that generated test data
// is signed with, generating it (and base.pub) when it is missing, so a
// regeneration keeps the committed key.
func Key(base string) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(base + ".key"); errors.Is(err, os.ErrNotExist) {
		if _, err := keys.Generate(base); err != nil {
			return nil, err
		}
	}
	return keys.LoadPrivate(base + ".key")
}

// RebuildRecipe is the loop of docs/format-v2.md section 7 that rebuilds
// every tgz of an extracted format 2 bundle from the byte ranges of its
// recipes and checks them against TGZSUMS, run in the extracted folder.
// TestRecipeIsTheDocumented holds it to the text of the document.
const RebuildRecipe = `while read -r sum path; do
  key=${path#images/}
  if grep -qvxE '(packs/[^ ]+[.]pack|members/sha256/[0-9a-f]{64}|have/[^ ]+) (0|[1-9][0-9]*) [1-9][0-9]*' "recipes/$key.members" ||
    grep -qF '..' "recipes/$key.members"; then
    echo "bad recipe for $key" >&2; exit 1
  fi
  mkdir -p "$(dirname "$path")"
  while read -r file off len; do
    tail -c +$((off + 1)) "$file" | head -c "$len"
  done < "recipes/$key.members" > "$path"
done < TGZSUMS
sha256sum --strict -c TGZSUMS
`
