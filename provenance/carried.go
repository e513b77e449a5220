package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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
	Keys         []string            // ids of the keys that verified a signature
	Identities   []manifest.Identity // certificate identities that verified a signature
	Attestations []string            // predicate types of the attestations that verified
}

// CheckCarried re-checks, without any network, the evidence a bundle
// carries for img: that a legacy signature payload carried for
// img.Signature.SignatureManifest verifies with one of p's keys, or a
// carried sigstore bundle of img.Signature.Bundles verifies under p (with
// no identity in p, a certificate must carry one of the identities the
// record names), for the signed digest; that every carried attestation
// verifies alike; and that the signed digest leads to the converted image
// (it is the image's manifest, or an index listing it). blob returns a
// carried blob whose content has been checked against its digest.
// Failures are *Error.
func CheckCarried(ctx context.Context, img *manifest.Image, blob func(v1.Hash) ([]byte, bool), p Policy) (*Rechecked, error) {
	fail := func(digest, format string, args ...any) error {
		return &Error{Image: img.Source, Digest: digest, Trust: p.describe(), Reason: fmt.Sprintf(format, args...)}
	}
	s := img.Signature
	if s == nil || s.Status != Verified || !s.Carried {
		return nil, fail(img.Digest, "the bundle carries no signature evidence for it (export with --carry-signatures)")
	}
	if err := s.Check(); err != nil {
		return nil, fail(img.Digest, "the signature record: %v", err)
	}
	digest, err1 := v1.NewHash(img.Digest)
	signed, err2 := v1.NewHash(s.SignedDigest)
	if err1 != nil || err2 != nil {
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
	rec := &Rechecked{SignedDigest: signed.String()}
	var why []string
	if s.SignatureManifest != "" {
		keys, _, w, err := checkLegacy(ctx, get, s.SignatureManifest, signed, p.Keys)
		if err != nil {
			return nil, fail(s.SignedDigest, "%v", err)
		}
		rec.Keys, why = keys, w
	}
	ids := p.Identities
	if len(ids) == 0 {
		ids = exactIdentity(s.Identities)
	}
	for _, m := range s.Bundles {
		bv, err := carriedBundle(get, m, "", signed, p, ids)
		switch {
		case err != nil:
			why = append(why, fmt.Sprintf("sigstore bundle %s: %v", m, err))
		case bv.PredicateType != SignPredicate:
			why = append(why, fmt.Sprintf("sigstore bundle %s is a %s attestation, not a signature", m, bv.PredicateType))
		default:
			rec.add(bv)
		}
	}
	if len(rec.Keys) == 0 && len(rec.Identities) == 0 {
		if len(why) == 0 {
			why = append(why, "the signature manifest lists no signatures")
		}
		return nil, fail(s.SignedDigest, "no carried signature verifies: %s", strings.Join(why, "; "))
	}
	for _, a := range s.Attestations {
		var (
			typ string
			err error
		)
		if a.Format == FormatDSSE {
			typ, err = carriedEnvelope(ctx, get, a, signed, p.Keys)
		} else {
			var bv *bundleVerdict
			if bv, err = carriedBundle(get, a.Manifest, a.Bundle, signed, p, ids); err == nil {
				typ = bv.PredicateType
			}
		}
		if err == nil && typ != a.PredicateType {
			err = fmt.Errorf("its statement's predicate type is %s", typ)
		}
		if err != nil {
			return nil, fail(s.SignedDigest, "the carried %s attestation %s does not verify: %v", a.PredicateType, a.Manifest, err)
		}
		rec.Attestations = append(rec.Attestations, a.PredicateType)
	}
	return rec, nil
}

func (rec *Rechecked) add(bv *bundleVerdict) {
	if bv.Key != "" && !slices.Contains(rec.Keys, bv.Key) {
		rec.Keys = append(rec.Keys, bv.Key)
	}
	if bv.Identity != nil && !slices.Contains(rec.Identities, *bv.Identity) {
		rec.Identities = append(rec.Identities, *bv.Identity)
	}
}

// carriedBundle verifies the carried sigstore bundle of the referrer
// manifest m (whose layer must be layer, when given) for signed.
func carriedBundle(get func(string, v1.Hash) ([]byte, error), m, layer string, signed v1.Hash, p Policy, ids []IdentityPolicy) (*bundleVerdict, error) {
	h, err := v1.NewHash(m)
	if err != nil {
		return nil, err
	}
	raw, err := get("referrer manifest", h)
	if err != nil {
		return nil, err
	}
	desc, err := parseReferrer(raw, signed)
	if err != nil {
		return nil, fmt.Errorf("referrer manifest %s: %w", h, err)
	}
	if layer != "" && desc.Digest.String() != layer {
		return nil, fmt.Errorf("referrer manifest %s holds %s, not the recorded bundle %s", h, desc.Digest, layer)
	}
	b, err := get("sigstore bundle", desc.Digest)
	if err != nil {
		return nil, err
	}
	return verifyBundle(b, signed, p.Keys, p.Root, ids)
}

// checkLegacy verifies the legacy signatures of the signature manifest sm
// (at the ".sig" tag or a cosign signature referrer) with keys; it returns
// the ids of the keys that verified one and the digests of the payloads
// that verified, or why none did.
func checkLegacy(ctx context.Context, get func(string, v1.Hash) ([]byte, error), sm string, signed v1.Hash, keys []*Key) ([]string, []string, []string, error) {
	h, err := v1.NewHash(sm)
	if err != nil {
		return nil, nil, nil, errors.New("malformed signature manifest digest in the signed manifest")
	}
	raw, err := get("signature manifest", h)
	if err != nil {
		return nil, nil, nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, nil, fmt.Errorf("signature manifest %s: %w", h, err)
	}
	var ids, verified, why []string
	if len(keys) == 0 && len(m.Layers) > 0 {
		why = append(why, "the legacy signatures need a cosign public key (--image-signatures)")
	}
	for _, l := range m.Layers {
		payload, err := get("signature payload", l.Digest)
		if err != nil {
			return nil, nil, nil, err
		}
		opts := []static.Option{static.WithAnnotations(l.Annotations), static.WithLayerMediaType(l.MediaType)}
		if c := l.Annotations[certAnnotation]; c != "" {
			opts = append(opts, static.WithCertChain([]byte(c), []byte(l.Annotations[chainAnnotation])))
		}
		sig, err := static.NewSignature(payload, l.Annotations[static.SignatureAnnotationKey], opts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("signature %s: %v", l.Digest, err)
		}
		for _, k := range keys {
			if err := verifyOne(ctx, sig, signed, k); err != nil {
				why = append(why, fmt.Sprintf("signature %s, key %s: %v", l.Digest, k.Path, err))
				continue
			}
			if !slices.Contains(ids, k.ID) {
				ids = append(ids, k.ID)
			}
			if !slices.Contains(verified, l.Digest.String()) {
				verified = append(verified, l.Digest.String())
			}
		}
	}
	return ids, verified, why, nil
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
// in m (a verified bundle's manifest) under p. Every image must pass;
// all failures are reported together.
func (c *Carried) Check(ctx context.Context, m *manifest.Manifest, p Policy) ([]ImageCheck, error) {
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
	for _, e := range m.ImageObjects() {
		rc, err := CheckCarried(ctx, e.Image, lookup, p)
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
