// Package bundletest writes signed bundles whose manifest.json says
// whatever a test wants, bypassing the checks bundle.Write makes, as an
// older, buggy or hostile exporter holding a trusted key could.
package bundletest

import (
	"archive/tar"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"time"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// WriteSigned writes a one-file bundle at path holding entries with the
// given bodies, in order. Each entry's Size and SHA256 are set from its
// body; Image is kept as given. Format, Created and Signer are filled in.
func WriteSigned(path string, priv ed25519.PrivateKey, entries []manifest.Entry, bodies [][]byte) error {
	created := time.Unix(1700000000, 0).UTC()
	m := &manifest.Manifest{Format: manifest.FormatVersion, Created: created,
		Signer: keys.ID(priv.Public().(ed25519.PublicKey)), Entries: entries}
	for i := range entries {
		h := sha256.Sum256(bodies[i])
		entries[i].Size, entries[i].SHA256 = int64(len(bodies[i])), hex.EncodeToString(h[:])
	}
	raw, err := m.Marshal()
	if err != nil {
		return err
	}
	h := sha256.Sum256(raw)
	sums := manifest.FormatSums(m.Sums(hex.EncodeToString(h[:])))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	files := []struct {
		name string
		body []byte
	}{{manifest.SumsName, sums}, {manifest.SigName, verify.Sign(priv, sums)}, {manifest.ManifestName, raw}}
	for i, e := range entries {
		files = append(files, struct {
			name string
			body []byte
		}{e.Path, bodies[i]})
	}
	for _, file := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: file.name, Mode: 0o644, Size: int64(len(file.body)), ModTime: created, Format: tar.FormatPAX}
		if err == nil {
			err = tw.WriteHeader(hdr)
		}
		if err == nil {
			_, err = tw.Write(file.body)
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
