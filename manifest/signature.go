package manifest

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// SignaturePrefix is the folder of carried signature evidence inside a
// bundle: content-addressed blobs named SignaturePrefix + "sha256/" + hex.
const SignaturePrefix = "signatures/"

// Signature records an image's upstream cosign signature check at export.
type Signature struct {
	Status  string    `json:"status"`  // "verified" or "unsigned"
	Checked time.Time `json:"checked"` // when the check was made
	// Keys are the ids of the keys that verified a signature.
	Keys []string `json:"keys,omitempty"`
	// SignedDigest is the digest the signatures sign: the image's digest
	// or its index digest.
	SignedDigest string `json:"signed_digest,omitempty"`
	// SignatureManifest is the digest of the signature image's manifest
	// (the "sha256-<hex>.sig" tag).
	SignatureManifest string `json:"signature_manifest,omitempty"`
	// Signatures are the digests of the signature payloads that verified.
	Signatures []string `json:"signatures,omitempty"`
	// Carried says the evidence travels in the bundle under SignaturePrefix.
	Carried bool `json:"carried,omitempty"`
	// Bundles are the digests of the referrer manifests whose sigstore
	// bundle signature verified.
	Bundles []string `json:"bundles,omitempty"`
	// Identities are the identities of the certificates that verified.
	Identities []Identity `json:"identities,omitempty"`
	// Attestations are the attestations that verified and are carried.
	Attestations []Attestation `json:"attestations,omitempty"`
}

// Identity is the identity of a certificate that verified a signature: its
// first URI or e-mail subject alternative name and its OIDC issuer.
type Identity struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
}

// Attestation is an attestation (an in-toto statement in a sigstore
// bundle) of the signed digest that verified and travels in the bundle.
type Attestation struct {
	PredicateType string `json:"predicate_type"`
	// Manifest is the referrer manifest that holds the bundle.
	Manifest string `json:"manifest"`
	// Bundle is the digest of the sigstore bundle layer.
	Bundle string `json:"bundle"`
	// Format is "" for a sigstore bundle attached through referrers, or
	// "dsse" for a legacy attestation: Manifest is then the manifest at the
	// "sha256-<hex>.att" tag and Bundle its DSSE envelope layer.
	Format string `json:"format,omitempty"`
}

// Bounds of a signature record's lists and strings (docs/format.md
// section 12).
const (
	MaxIdentities    = 16
	MaxAttestations  = 64
	MaxBundles       = 64
	maxIdentityText  = 1024
	maxPredicateType = 256
)

// Check validates the fields of s that later steps use as they are:
// bundles, identities and attestations (digests, bounds, printable text).
func (s *Signature) Check() error {
	if len(s.Bundles) > MaxBundles {
		return fmt.Errorf("%d bundles, more than %d", len(s.Bundles), MaxBundles)
	}
	for _, d := range s.Bundles {
		if !isDigest(d) {
			return fmt.Errorf("bundle digest %q is not sha256:<64 hex digits>", d)
		}
	}
	if len(s.Identities) > MaxIdentities {
		return fmt.Errorf("%d identities, more than %d", len(s.Identities), MaxIdentities)
	}
	for _, id := range s.Identities {
		if err := id.Check(); err != nil {
			return err
		}
	}
	if len(s.Attestations) > MaxAttestations {
		return fmt.Errorf("%d attestations, more than %d", len(s.Attestations), MaxAttestations)
	}
	for _, a := range s.Attestations {
		if err := CheckPredicateType(a.PredicateType); err != nil {
			return err
		}
		if a.Format != "" && a.Format != "dsse" {
			return fmt.Errorf("attestation %s: unknown format %q (if a newer airlock wrote the bundle, upgrade)", a.PredicateType, a.Format)
		}
		if !isDigest(a.Manifest) || !isDigest(a.Bundle) {
			return fmt.Errorf("attestation %s: manifest %q or bundle %q is not sha256:<64 hex digits>", a.PredicateType, a.Manifest, a.Bundle)
		}
	}
	return nil
}

// Check checks that both halves of id are printable text of 1 to 1024
// bytes.
func (id Identity) Check() error {
	for _, t := range []string{id.Subject, id.Issuer} {
		if t == "" || len(t) > maxIdentityText || !printable(t) {
			return fmt.Errorf("identity %q (issuer %q): want printable text of 1 to %d bytes", id.Subject, id.Issuer, maxIdentityText)
		}
	}
	return nil
}

// CheckPredicateType checks that t is an absolute URI of at most 256
// printable bytes.
func CheckPredicateType(t string) error {
	u, err := url.Parse(t)
	if err != nil || !u.IsAbs() || len(t) > maxPredicateType || !printable(t) {
		return fmt.Errorf("attestation predicate type %q is not an absolute URI of at most %d printable bytes", t, maxPredicateType)
	}
	return nil
}

func isDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && IsSHA256Hex(hex)
}
