package provenance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"

	"github.com/airlockhq/airlock/manifest"
)

// Status values recorded in manifest.Signature.
const (
	Verified = "verified" // a signature by a trusted key verified
	Unsigned = "unsigned" // no signature was found and none was required
)

// Policy says which signatures an image needs.
type Policy struct {
	// Keys are the trusted keys; a signature by any one of them is
	// enough.
	Keys []*Key
	// Root is the trusted root certificate-based signatures (sigstore
	// bundles) must chain to; Identities are the certificate identities
	// accepted under it (any one suffices). No keys and no root: the
	// image is not checked.
	Root       *TrustedRoot
	Identities []IdentityPolicy
	// Require makes an image without signatures an error; otherwise it
	// is recorded as unsigned.
	Require bool
	// Attestations asks for the image's attestations (sigstore bundles
	// with another predicate type than a signature's) that verify under
	// the same trust to be recorded and carried.
	Attestations bool
}

func (p Policy) trusted() bool { return len(p.Keys) > 0 || p.Root != nil }

// describe names the trust of p for messages: the key files, the trusted
// root and the identities.
func (p Policy) describe() string {
	var parts []string
	if len(p.Keys) > 0 {
		var paths []string
		for _, k := range p.Keys {
			paths = append(paths, k.Path)
		}
		parts = append(parts, "key "+strings.Join(paths, ", "))
	}
	if p.Root != nil {
		var ids []string
		for _, id := range p.Identities {
			ids = append(ids, id.String())
		}
		t := "trusted root " + p.Root.Path
		if len(ids) > 0 {
			t += " and " + strings.Join(ids, ", ")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " or ")
}

// Subject is one image to check.
type Subject struct {
	// Source is the reference as requested, for messages and records.
	Source string
	// Repo is the repository the image was pulled from; cosign keeps the
	// signatures there.
	Repo name.Repository
	// Digest is the image manifest that is converted.
	Digest v1.Hash
	// IndexDigest is the index Digest was chosen from, or nil.
	IndexDigest *v1.Hash
	// Image is the image itself; its manifest and config are carried as
	// evidence.
	Image v1.Image
}

// Evidence is the outcome of a successful check.
type Evidence struct {
	Record manifest.Signature
	// Blobs is the evidence a bundle may carry, by digest: the signed
	// manifest (image or index), the converted image's manifest and
	// config, the signature manifest and its payloads. Empty for an
	// unsigned image.
	Blobs map[v1.Hash][]byte
	// Notes say what was left out: sigstore bundles that did not verify
	// (an attestation by someone else), attestations over the limit.
	Notes []string
}

// Error says why an image's signatures were refused.
type Error struct {
	Image  string // the reference as requested
	Digest string // the digest whose signatures were checked
	// Trust names what was trusted: "key a.pub, b.pub", "trusted root
	// R and identity RE (issuer I)", or both.
	Trust  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("signature check failed for image %s (%s) with %s: %s", e.Image, e.Digest, e.Trust, e.Reason)
}

// FetchError says an image's signatures could not be read from its
// registry (unreachable, refused, stalled, an untrusted certificate): the
// check never came to a verdict. Err is the registry client's error.
type FetchError struct {
	Image  string // the reference as requested
	Digest string // the digest whose signatures were fetched
	Err    error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetching the signatures of image %s (%s): %v", e.Image, e.Digest, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Verifier checks cosign signatures in registries.
type Verifier struct {
	remote []remote.Option
	now    func() time.Time
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithRemoteOptions sets how registries are reached (auth, transport, user
// agent, retries): pass the options of the registry client the images were
// resolved with (source.Client.RemoteOptions), so that signatures are
// fetched alike. The context is added per call. Default: none, which is
// go-containerregistry's defaults.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(v *Verifier) { v.remote = append(v.remote, opts...) }
}

// WithClock sets the time recorded as "checked" (default time.Now), so that
// bundles can be reproducible.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// New returns a Verifier.
func New(opts ...Option) *Verifier {
	v := &Verifier{now: time.Now}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Check verifies s's signatures under p, in both of cosign's schemes:
// signatures in the legacy "sha256-<hex>.sig" tag, and sigstore bundles
// attached through the referrers API (or its tag fallback). It returns nil
// evidence when p trusts nothing, evidence with Status Unsigned when no
// signature exists and none is required, and an *Error when signatures
// exist but none verifies under p, or none exists and p requires one, and
// a *FetchError when the registry did not give the signatures. For an
// image resolved through an index, signatures on the index digest are
// tried first, then those on the platform manifest digest, as `cosign
// verify` does for the reference it is given.
func (v *Verifier) Check(ctx context.Context, s Subject, p Policy) (*Evidence, error) {
	if !p.trusted() {
		return nil, nil
	}
	candidates := []v1.Hash{s.Digest}
	if s.IndexDigest != nil {
		candidates = []v1.Hash{*s.IndexDigest, s.Digest}
	}
	checked := v.now().UTC().Truncate(time.Second)
	var reasons []string
	found := false
	for _, d := range candidates {
		sigs, err := v.signatures(ctx, s.Repo.Digest(d.String()))
		var list []oci.Signature
		if err == nil {
			list, err = sigs.Get()
		}
		var (
			refs    []referrer
			sigRefs []sigReferrer
		)
		if err == nil {
			refs, sigRefs, err = v.referrers(ctx, s.Repo, d)
		}
		if err != nil {
			return nil, &FetchError{Image: s.Source, Digest: d.String(), Err: err}
		}
		if len(list) == 0 && len(refs) == 0 && len(sigRefs) == 0 {
			continue
		}
		found = true
		rec, carry, notes, why := verifyCandidate(ctx, list, sigRefs, refs, d, p)
		if rec == nil {
			reasons = append(reasons, fmt.Sprintf("%s: %s", d, why))
			continue
		}
		rec.Status, rec.Checked, rec.SignedDigest = Verified, checked, d.String()
		ev := &Evidence{Record: *rec, Notes: notes}
		legacy := sigs // the tag's signatures verified
		if len(rec.Signatures) == 0 || rec.SignatureManifest != "" {
			legacy = nil
		}
		if ev.Blobs, err = v.material(ctx, s, d, legacy, carry.refs); err != nil {
			return nil, v.fail(s, d, p, err.Error())
		}
		maps.Copy(ev.Blobs, carry.sigs)
		if p.Attestations && len(p.Keys) > 0 {
			if err := v.addLegacyAttestations(ctx, s.Repo, d, p.Keys, ev); err != nil {
				return nil, &FetchError{Image: s.Source, Digest: d.String(), Err: err}
			}
		}
		if legacy != nil {
			smd, _ := sigs.Digest()
			ev.Record.SignatureManifest = smd.String()
		}
		return ev, nil
	}
	switch {
	case found:
		return nil, v.fail(s, s.Digest, p, "no signature verifies: "+strings.Join(reasons, "; "))
	case p.Require:
		return nil, v.fail(s, s.Digest, p, "the image is not signed (no cosign signature at "+sigTags(candidates)+", and no sigstore bundle among its referrers)")
	}
	return &Evidence{Record: manifest.Signature{Status: Unsigned, Checked: checked}}, nil
}

// carriedRefs is what a verified candidate carries besides the image: the
// referrers whose sigstore bundles verified, and the blobs of a cosign
// signature referrer that verified.
type carriedRefs struct {
	refs []referrer
	sigs map[v1.Hash][]byte
}

// verifyCandidate verifies the legacy signatures (at the tag, list, or as
// referrers, sigRefs) and the sigstore bundles of digest d under p. It
// returns the record (nil when no signature verified, with why), what
// travels as evidence, and notes on attestations left out.
func verifyCandidate(ctx context.Context, list []oci.Signature, sigRefs []sigReferrer, refs []referrer, d v1.Hash, p Policy) (*manifest.Signature, carriedRefs, []string, string) {
	rec := &manifest.Signature{}
	var (
		why   []string
		carry carriedRefs
		notes []string
	)
	if len(list) > 0 || len(sigRefs) > 0 {
		if len(p.Keys) == 0 {
			why = append(why, "the signatures at "+sigTags([]v1.Hash{d})+" need a cosign public key")
		} else if r, w := verifyAll(ctx, list, d, p.Keys); r != nil {
			rec = r
		} else if len(list) > 0 {
			why = append(why, w)
		}
	}
	for _, sr := range sigRefs {
		if len(rec.Signatures) > 0 || len(p.Keys) == 0 {
			break
		}
		get := func(what string, h v1.Hash) ([]byte, error) {
			if b, ok := sr.Blobs[h]; ok {
				return b, nil
			}
			return nil, fmt.Errorf("the %s %s was not read", what, h)
		}
		ids, verified, w, err := checkLegacy(ctx, get, sr.Manifest.String(), d, p.Keys)
		if err != nil || len(ids) == 0 {
			why = append(why, fmt.Sprintf("signature referrer %s: %v", sr.Manifest, errors.Join(err, errors.New(strings.Join(w, "; ")))))
			continue
		}
		rec.Keys, rec.Signatures, rec.SignatureManifest, carry.sigs = ids, verified, sr.Manifest.String(), sr.Blobs
	}
	for _, r := range refs {
		bv, err := verifyBundle(r.Bundle, d, p.Keys, p.Root, p.Identities)
		if err != nil {
			if r.Claimed == "" || r.Claimed == SignPredicate { // attestations do not explain a signature's failure
				why = append(why, fmt.Sprintf("sigstore bundle %s: %v", r.Manifest, err))
			}
			if p.Attestations {
				notes = append(notes, fmt.Sprintf("the sigstore bundle %s does not verify and is left out: %v", r.Manifest, err))
			}
			continue
		}
		if bv.PredicateType != SignPredicate && !p.Attestations {
			continue
		}
		addTrust(rec, bv)
		carry.refs = append(carry.refs, r)
		if bv.PredicateType == SignPredicate {
			rec.Bundles = append(rec.Bundles, r.Manifest.String())
			continue
		}
		if len(rec.Attestations) == manifest.MaxAttestations {
			notes = append(notes, fmt.Sprintf("more than %d attestations; %s is left out", manifest.MaxAttestations, r.Manifest))
			continue
		}
		rec.Attestations = append(rec.Attestations, manifest.Attestation{PredicateType: bv.PredicateType, Manifest: r.Manifest.String(), Bundle: r.Layer.String()})
	}
	if len(rec.Signatures) == 0 && len(rec.Bundles) == 0 {
		return nil, carriedRefs{}, nil, strings.Join(why, "; ")
	}
	return rec, carry, notes, ""
}

// addTrust records the key or certificate identity that verified bv.
func addTrust(rec *manifest.Signature, bv *bundleVerdict) {
	if bv.Key != "" && !slices.Contains(rec.Keys, bv.Key) {
		rec.Keys = append(rec.Keys, bv.Key)
	}
	if bv.Identity != nil && !slices.Contains(rec.Identities, *bv.Identity) && len(rec.Identities) < manifest.MaxIdentities {
		rec.Identities = append(rec.Identities, *bv.Identity)
	}
}

func (v *Verifier) fail(s Subject, d v1.Hash, p Policy, reason string) *Error {
	return &Error{Image: s.Source, Digest: d.String(), Trust: p.describe(), Reason: reason}
}

func sigTags(ds []v1.Hash) string {
	var tags []string
	for _, d := range ds {
		tags = append(tags, d.Algorithm+"-"+d.Hex+".sig")
	}
	return strings.Join(tags, " or ")
}

func (v *Verifier) remoteOptions(ctx context.Context) []remote.Option {
	return append(append([]remote.Option(nil), v.remote...), remote.WithContext(ctx))
}

// signatures fetches the signature image cosign attached to ref (empty when
// there is none).
func (v *Verifier) signatures(ctx context.Context, ref name.Digest) (oci.Signatures, error) {
	opt := ociremote.WithRemoteOptions(v.remoteOptions(ctx)...)
	tag, err := ociremote.SignatureTag(ref, opt)
	if err != nil {
		return nil, err
	}
	return ociremote.Signatures(tag, opt)
}

// verifyAll checks every signature with every key; it returns the record
// of those that verified, or nil and why none did.
func verifyAll(ctx context.Context, list []oci.Signature, d v1.Hash, ks []*Key) (*manifest.Signature, string) {
	rec := &manifest.Signature{}
	var why []string
	keySeen := map[string]bool{}
	for _, sig := range list {
		sd, err := sig.Digest()
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		ok := false
		for _, k := range ks {
			err := verifyOne(ctx, sig, d, k)
			if err != nil {
				why = append(why, fmt.Sprintf("signature %s, key %s: %v", sd, k.Path, err))
				continue
			}
			ok = true
			if !keySeen[k.ID] {
				keySeen[k.ID] = true
				rec.Keys = append(rec.Keys, k.ID)
			}
		}
		if ok {
			rec.Signatures = append(rec.Signatures, sd.String())
		}
	}
	if len(rec.Signatures) == 0 {
		return nil, strings.Join(why, "; ")
	}
	return rec, ""
}

// verifyOne checks one signature with one key as `cosign verify --key K
// --insecure-ignore-tlog` does: the signature over the payload, and the
// payload's claim that it signs digest d.
func verifyOne(ctx context.Context, sig oci.Signature, d v1.Hash, k *Key) error {
	_, err := cosign.VerifyImageSignature(ctx, sig, d, &cosign.CheckOpts{
		SigVerifier:   k.verifier,
		ClaimVerifier: cosign.SimpleClaimVerifier,
		IgnoreTlog:    true,
		IgnoreSCT:     true,
	})
	return err
}

// material collects the evidence blobs for a signature on digest d: the
// image manifest and config, the signed index, the legacy signature
// manifest and payloads (sigs, nil when none verified), and the referrer
// manifests and bundles of refs.
func (v *Verifier) material(ctx context.Context, s Subject, d v1.Hash, sigs oci.Signatures, refs []referrer) (map[v1.Hash][]byte, error) {
	blobs := map[v1.Hash][]byte{}
	add := func(what string, get func() ([]byte, error)) error {
		b, err := get()
		if err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		if len(b) > MaxBlobSize {
			return fmt.Errorf("the %s is larger than %d bytes", what, MaxBlobSize)
		}
		h, _, err := v1.SHA256(bytesReader(b))
		if err != nil {
			return err
		}
		blobs[h] = b
		return nil
	}
	if err := add("image manifest", s.Image.RawManifest); err != nil {
		return nil, err
	}
	if err := add("image config", s.Image.RawConfigFile); err != nil {
		return nil, err
	}
	if d != s.Digest {
		err := add("index manifest", func() ([]byte, error) {
			desc, err := remote.Get(s.Repo.Digest(d.String()), v.remoteOptions(ctx)...)
			if err != nil {
				return nil, err
			}
			return desc.Manifest, nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, r := range refs {
		blobs[r.Manifest], blobs[r.Layer] = r.RawManifest, r.Bundle
	}
	if sigs == nil {
		return blobs, nil
	}
	if err := add("signature manifest", sigs.RawManifest); err != nil {
		return nil, err
	}
	list, err := sigs.Get()
	if err != nil {
		return nil, err
	}
	for _, sig := range list {
		if err := add("signature payload", sig.Payload); err != nil {
			return nil, err
		}
	}
	return blobs, nil
}

// referrers fetches the sigstore bundles attached to digest d in repo
// through the referrers API or its tag fallback (at most maxReferrers;
// referrers that are no sigstore bundle are skipped). Each manifest and
// bundle is read bounded and checked against its digest.
func (v *Verifier) referrers(ctx context.Context, repo name.Repository, d v1.Hash) ([]referrer, []sigReferrer, error) {
	idx, err := remote.Referrers(repo.Digest(d.String()), v.remoteOptions(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusMethodNotAllowed || terr.StatusCode == http.StatusNotImplemented) {
		idx, err = v.referrersTag(ctx, repo, d) // a registry that refuses the API instead of answering 404
	}
	if err != nil {
		return nil, nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	var (
		out  []referrer
		sigs []sigReferrer
	)
	for i, desc := range im.Manifests {
		if i == maxReferrers {
			break
		}
		if desc.Size > MaxBlobSize {
			continue
		}
		got, err := remote.Get(repo.Digest(desc.Digest.String()), v.remoteOptions(ctx)...)
		if err != nil {
			return nil, nil, fmt.Errorf("referrer %s: %w", desc.Digest, err)
		}
		if got.Digest != desc.Digest {
			return nil, nil, fmt.Errorf("referrer %s: the registry gave %s", desc.Digest, got.Digest)
		}
		if layers, ok := parseSigReferrer(got.Manifest, d); ok {
			sr, err := v.sigReferrer(ctx, repo, desc.Digest, got.Manifest, layers)
			if err != nil {
				return nil, nil, err
			}
			sigs = append(sigs, *sr)
			continue
		}
		layer, err := parseReferrer(got.Manifest, d)
		if err != nil {
			continue // not a sigstore bundle of d
		}
		l, err := remote.Layer(repo.Digest(layer.Digest.String()), v.remoteOptions(ctx)...)
		if err != nil {
			return nil, nil, fmt.Errorf("sigstore bundle %s: %w", layer.Digest, err)
		}
		b, err := readBlob(l, layer.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("sigstore bundle %s of referrer %s: %w", layer.Digest, desc.Digest, err)
		}
		out = append(out, referrer{Manifest: desc.Digest, RawManifest: got.Manifest, Layer: layer.Digest, Bundle: b, Claimed: desc.Annotations[predicateAnnotation]})
	}
	return out, sigs, nil
}

// sigReferrer reads the payloads of the cosign signature referrer m.
func (v *Verifier) sigReferrer(ctx context.Context, repo name.Repository, m v1.Hash, raw []byte, layers []v1.Descriptor) (*sigReferrer, error) {
	sr := &sigReferrer{Manifest: m, Blobs: map[v1.Hash][]byte{m: raw}}
	for _, l := range layers {
		if l.Size > MaxBlobSize {
			return nil, fmt.Errorf("signature %s of referrer %s: larger than %d bytes", l.Digest, m, MaxBlobSize)
		}
		layer, err := remote.Layer(repo.Digest(l.Digest.String()), v.remoteOptions(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("signature %s of referrer %s: %w", l.Digest, m, err)
		}
		if sr.Blobs[l.Digest], err = readBlob(layer, l.Digest); err != nil {
			return nil, fmt.Errorf("signature %s of referrer %s: %w", l.Digest, m, err)
		}
	}
	return sr, nil
}

// referrersTag reads the referrers tag fallback "sha256-<hex>" of d; none
// is an empty index.
func (v *Verifier) referrersTag(ctx context.Context, repo name.Repository, d v1.Hash) (v1.ImageIndex, error) {
	idx, err := remote.Index(repo.Tag(d.Algorithm+"-"+d.Hex), v.remoteOptions(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return empty.Index, nil
	}
	return idx, err
}

// readBlob reads a layer of at most MaxBlobSize bytes and checks its
// digest.
func readBlob(l v1.Layer, want v1.Hash) ([]byte, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxBlobSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBlobSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxBlobSize)
	}
	if h, _, _ := v1.SHA256(bytesReader(b)); h != want {
		return nil, fmt.Errorf("its content has digest %s", h)
	}
	return b, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
