package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/cosign/v2/pkg/oci/static"

	"github.com/airlockhq/airlock/manifest"
)

// Cosign's annotations on a signature layer that matter to a key-based check.
const (
	certAnnotation  = "dev.sigstore.cosign/certificate"
	chainAnnotation = "dev.sigstore.cosign/chain"
)

// MaxBlobSize bounds one carried evidence blob (manifests, configs and
// signature payloads are a few KiB).
const MaxBlobSize = 4 << 20

// BlobPath is the bundle entry name of a carried evidence blob.
func BlobPath(d v1.Hash) string {
	return manifest.SignaturePrefix + d.Algorithm + "/" + d.Hex
}

// BlobDigest returns the digest a carried entry's name claims, and false
// for names that are not evidence blobs.
func BlobDigest(path string) (v1.Hash, bool) {
	rest, ok := strings.CutPrefix(path, manifest.SignaturePrefix)
	if !ok {
		return v1.Hash{}, false
	}
	alg, hex, ok := strings.Cut(rest, "/")
	if !ok || alg != "sha256" {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(alg + ":" + hex)
	return h, err == nil
}

// Rechecked is the outcome of CheckCarried.
type Rechecked struct {
	SignedDigest string
	Keys         []string // ids of the keys that verified a signature
}

// CheckCarried re-checks, without any network, the evidence a bundle
// carries for img: that the signature payloads carried for
// img.Signature.SignatureManifest verify with one of keys for the signed
// digest, and that the signed digest leads to the converted image (it is
// the image's manifest, or an index listing it). blob returns a carried
// blob whose content has been checked against its digest. Failures are
// *Error.
func CheckCarried(ctx context.Context, img *manifest.Image, blob func(v1.Hash) ([]byte, bool), keys []*Key) (*Rechecked, error) {
	fail := func(digest, format string, args ...any) error {
		e := &Error{Image: img.Source, Digest: digest, Reason: fmt.Sprintf(format, args...)}
		for _, k := range keys {
			e.Keys = append(e.Keys, k.Path)
		}
		return e
	}
	s := img.Signature
	if s == nil || s.Status != Verified || !s.Carried {
		return nil, fail(img.Digest, "the bundle carries no signature evidence for it (export with --carry-signatures)")
	}
	digest, err1 := v1.NewHash(img.Digest)
	signed, err2 := v1.NewHash(s.SignedDigest)
	sigManifest, err3 := v1.NewHash(s.SignatureManifest)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fail(img.Digest, "malformed digest in the signed manifest")
	}
	get := func(what string, d v1.Hash) ([]byte, error) {
		b, ok := blob(d)
		if !ok {
			return nil, fail(s.SignedDigest, "the %s %s is not carried in the bundle (%s)", what, d, BlobPath(d))
		}
		return b, nil
	}
	if err := checkChain(get, digest, signed); err != nil {
		return nil, fail(s.SignedDigest, "%v", err)
	}
	raw, err := get("signature manifest", sigManifest)
	if err != nil {
		return nil, err
	}
	var sm v1.Manifest
	if err := json.Unmarshal(raw, &sm); err != nil {
		return nil, fail(s.SignedDigest, "signature manifest %s: %v", sigManifest, err)
	}
	rec := &Rechecked{SignedDigest: signed.String()}
	seen := map[string]bool{}
	var why []string
	for _, l := range sm.Layers {
		payload, err := get("signature payload", l.Digest)
		if err != nil {
			return nil, err
		}
		opts := []static.Option{static.WithAnnotations(l.Annotations), static.WithLayerMediaType(l.MediaType)}
		if c := l.Annotations[certAnnotation]; c != "" {
			opts = append(opts, static.WithCertChain([]byte(c), []byte(l.Annotations[chainAnnotation])))
		}
		sig, err := static.NewSignature(payload, l.Annotations[static.SignatureAnnotationKey], opts...)
		if err != nil {
			return nil, fail(s.SignedDigest, "signature %s: %v", l.Digest, err)
		}
		for _, k := range keys {
			if err := verifyOne(ctx, sig, signed, k); err != nil {
				why = append(why, fmt.Sprintf("signature %s, key %s: %v", l.Digest, k.Path, err))
				continue
			}
			if !seen[k.ID] {
				seen[k.ID] = true
				rec.Keys = append(rec.Keys, k.ID)
			}
		}
	}
	if len(rec.Keys) == 0 {
		if len(why) == 0 {
			why = append(why, "the signature manifest lists no signatures")
		}
		return nil, fail(s.SignedDigest, "no carried signature verifies: %s", strings.Join(why, "; "))
	}
	return rec, nil
}

// checkChain checks that signed leads to the converted image digest: it is
// the image manifest itself, or an index that lists it; and that the image
// manifest and its config are carried.
func checkChain(get func(string, v1.Hash) ([]byte, error), digest, signed v1.Hash) error {
	if signed != digest {
		raw, err := get("signed index", signed)
		if err != nil {
			return err
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("signed index %s: %w", signed, err)
		}
		listed := false
		for _, m := range idx.Manifests {
			listed = listed || m.Digest == digest
		}
		if !listed {
			return fmt.Errorf("the signed index %s does not list the converted image %s", signed, digest)
		}
	}
	raw, err := get("image manifest", digest)
	if err != nil {
		return err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("image manifest %s: %w", digest, err)
	}
	_, err = get("image config", m.Config.Digest)
	return err
}

// Carried collects the evidence blobs a bundle carries while the bundle is
// read (Writer), then re-checks every image's upstream signature from them
// (Check), without any network.
type Carried struct {
	blobs map[v1.Hash]*bytes.Buffer
}

// NewCarried returns an empty collector.
func NewCarried() *Carried { return &Carried{blobs: map[v1.Hash]*bytes.Buffer{}} }

// Writer returns where to copy the data of bundle entry e, or nil when e
// is not an evidence blob: a name under manifest.SignaturePrefix that is
// its own sha256, of at most MaxBlobSize bytes. The bundle reader checks
// that sha256 while the entry is read, so Check must only run once the
// bundle verified.
func (c *Carried) Writer(e *manifest.Entry) io.Writer {
	if e.Size > MaxBlobSize {
		return nil
	}
	h, ok := BlobDigest(e.Path)
	if !ok || h.Hex != e.SHA256 {
		return nil
	}
	b := &bytes.Buffer{}
	c.blobs[h] = b
	return b
}

// ImageCheck is one image whose carried signature verified again.
type ImageCheck struct {
	Key, Source string // the image's S3 key and reference, from the manifest
	Rechecked
}

// Check re-checks, with CheckCarried, the carried signature of every image
// in m (a verified bundle's manifest) with keys. Every image must pass;
// all failures are reported together.
func (c *Carried) Check(ctx context.Context, m *manifest.Manifest, keys []*Key) ([]ImageCheck, error) {
	lookup := func(h v1.Hash) ([]byte, bool) {
		b, ok := c.blobs[h]
		if !ok {
			return nil, false
		}
		return b.Bytes(), true
	}
	var (
		out  []ImageCheck
		errs []error
	)
	for _, e := range m.Entries {
		if e.Image == nil {
			continue
		}
		rc, err := CheckCarried(ctx, e.Image, lookup, keys)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ImageCheck{Key: e.Image.Key, Source: e.Image.Source, Rechecked: *rc})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
