package provenance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
	// enough. No keys: the image is not checked.
	Keys []*Key
	// Require makes an image without signatures an error; otherwise it
	// is recorded as unsigned.
	Require bool
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
}

// Error says why an image's signatures were refused.
type Error struct {
	Image  string   // the reference as requested
	Digest string   // the digest whose signatures were checked
	Keys   []string // the key files tried
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("signature check failed for image %s (%s) with key %s: %s",
		e.Image, e.Digest, strings.Join(e.Keys, ", "), e.Reason)
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

// Check verifies s's signatures under p. It returns nil evidence when p has
// no keys, evidence with Status Unsigned when no signature exists and none
// is required, and an *Error when signatures exist but none verifies with
// p's keys, or none exists and p requires one, and a *FetchError when the
// registry did not give the signatures. For an image resolved
// through an index, signatures on the index digest are tried first, then
// those on the platform manifest digest, as `cosign verify` does for the
// reference it is given.
func (v *Verifier) Check(ctx context.Context, s Subject, p Policy) (*Evidence, error) {
	if len(p.Keys) == 0 {
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
		if err != nil {
			return nil, &FetchError{Image: s.Source, Digest: d.String(), Err: err}
		}
		if len(list) == 0 {
			continue
		}
		found = true
		rec, why := verifyAll(ctx, list, d, p.Keys)
		if rec == nil {
			reasons = append(reasons, fmt.Sprintf("%s: %s", d, why))
			continue
		}
		rec.Status, rec.Checked, rec.SignedDigest = Verified, checked, d.String()
		ev := &Evidence{Record: *rec}
		if ev.Blobs, err = v.material(ctx, s, d, sigs); err != nil {
			return nil, v.fail(s, d, p, err.Error())
		}
		smd, _ := sigs.Digest()
		ev.Record.SignatureManifest = smd.String()
		return ev, nil
	}
	switch {
	case found:
		return nil, v.fail(s, s.Digest, p, "no signature verifies: "+strings.Join(reasons, "; "))
	case p.Require:
		return nil, v.fail(s, s.Digest, p, "the image is not signed (no cosign signature at "+sigTags(candidates)+")")
	}
	return &Evidence{Record: manifest.Signature{Status: Unsigned, Checked: checked}}, nil
}

func (v *Verifier) fail(s Subject, d v1.Hash, p Policy, reason string) *Error {
	e := &Error{Image: s.Source, Digest: d.String(), Reason: reason}
	for _, k := range p.Keys {
		e.Keys = append(e.Keys, k.Path)
	}
	return e
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

// material collects the evidence blobs for a signature on digest d.
func (v *Verifier) material(ctx context.Context, s Subject, d v1.Hash, sigs oci.Signatures) (map[v1.Hash][]byte, error) {
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

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
