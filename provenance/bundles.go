package provenance

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/airlockhq/airlock/manifest"
)

// Sigstore bundles attached through the OCI referrers API (docs/format.md
// section 12, "Sigstore bundles").
const (
	// BundleMediaPrefix starts the media type of a sigstore bundle layer.
	BundleMediaPrefix = "application/vnd.dev.sigstore.bundle"
	// SignPredicate is the predicate type of a cosign signature in a
	// sigstore bundle; any other predicate type is an attestation.
	SignPredicate = "https://sigstore.dev/cosign/sign/v1"
	// maxReferrers bounds the referrers of one digest that are read.
	maxReferrers = 64
	// maxTrustedRoot bounds a trusted_root.json file.
	maxTrustedRoot = 1 << 20
)

// TrustedRoot is a sigstore trusted root (trusted_root.json): the
// certificate authorities (and transparency logs) that certificate-based
// signatures must chain to.
type TrustedRoot struct {
	Path     string // the file it came from, for messages
	material root.TrustedMaterial
}

// LoadTrustedRoot reads a trusted_root.json as `cosign trusted-root
// create` writes it or as sigstore's TUF repository publishes it.
func LoadTrustedRoot(path string) (*TrustedRoot, error) {
	b, err := readFile("trusted root", path, maxTrustedRoot, "a trusted_root.json")
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w (want sigstore's trusted_root.json format, e.g. from cosign trusted-root create)", path, err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		return nil, fmt.Errorf("trusted root %s lists no certificate authority; add one with cosign trusted-root create --fulcio", path)
	}
	return &TrustedRoot{Path: path, material: tr}, nil
}

// IdentityPolicy says whose certificates are trusted: the certificate's
// subject alternative name must match SubjectRegexp, and its OIDC issuer
// must equal Issuer.
type IdentityPolicy struct {
	SubjectRegexp string
	Issuer        string
}

// Check checks that the policy is complete and its regexp compiles.
func (id IdentityPolicy) Check() error {
	if id.SubjectRegexp == "" || id.Issuer == "" {
		return errors.New("a certificate identity needs both a subject regexp and an OIDC issuer")
	}
	if _, err := regexp.Compile(id.SubjectRegexp); err != nil {
		return fmt.Errorf("certificate identity regexp %q: %w", id.SubjectRegexp, err)
	}
	return nil
}

func (id IdentityPolicy) String() string {
	return fmt.Sprintf("identity %s (issuer %s)", id.SubjectRegexp, id.Issuer)
}

// exactIdentity is the policy that accepts exactly the recorded identity.
func exactIdentity(ids []manifest.Identity) []IdentityPolicy {
	var out []IdentityPolicy
	for _, id := range ids {
		out = append(out, IdentityPolicy{SubjectRegexp: "^" + regexp.QuoteMeta(id.Subject) + "$", Issuer: id.Issuer})
	}
	return out
}

// referrer is one sigstore bundle attached to a digest.
type referrer struct {
	Manifest    v1.Hash // the referrer manifest
	RawManifest []byte
	Layer       v1.Hash // the bundle layer
	Bundle      []byte
	// Claimed is the predicate type the manifest's annotation claims,
	// unverified: for messages only.
	Claimed string
}

// sigReferrer is a legacy cosign signature manifest attached as a
// referrer (cosign sign --registry-referrers-mode=oci-1-1): the same
// layers as at the ".sig" tag.
type sigReferrer struct {
	Manifest v1.Hash
	Blobs    map[v1.Hash][]byte // the manifest and its payloads
}

// SigArtifactType is the artifact (config media) type of a cosign
// signature manifest attached as a referrer.
const SigArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"

// parseSigReferrer checks that raw is a cosign signature manifest of d and
// returns its layers.
func parseSigReferrer(raw []byte, d v1.Hash) ([]v1.Descriptor, bool) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil || m.Subject == nil || m.Subject.Digest != d {
		return nil, false
	}
	if string(m.Config.MediaType) != SigArtifactType && m.Config.ArtifactType != SigArtifactType {
		return nil, false
	}
	if len(m.Layers) > maxReferrers {
		return nil, false
	}
	return m.Layers, true
}

// predicateAnnotation is where cosign writes a bundle's predicate type on
// its referrer manifest.
const predicateAnnotation = "dev.sigstore.bundle.predicateType"

// bundleVerdict is a verified sigstore bundle.
type bundleVerdict struct {
	PredicateType string
	Key           string             // id of the key that verified it, or ""
	Identity      *manifest.Identity // the certificate's identity, or nil
}

// parseReferrer checks that raw is a referrer manifest of d with one
// sigstore bundle layer, and returns that layer's descriptor.
func parseReferrer(raw []byte, d v1.Hash) (*v1.Descriptor, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if m.Subject == nil || m.Subject.Digest != d {
		return nil, fmt.Errorf("its subject is not %s", d)
	}
	if len(m.Layers) != 1 || !strings.HasPrefix(string(m.Layers[0].MediaType), BundleMediaPrefix) {
		return nil, errors.New("it does not hold one sigstore bundle layer")
	}
	if m.Layers[0].Size > MaxBlobSize {
		return nil, fmt.Errorf("its bundle is larger than %d bytes", MaxBlobSize)
	}
	return &m.Layers[0], nil
}

// verifyBundle verifies one sigstore bundle for digest d: key-based with
// one of keys, or certificate-based against tr with one of ids. It does
// not consult any network.
func verifyBundle(raw []byte, d v1.Hash, keys []*Key, tr *TrustedRoot, ids []IdentityPolicy) (*bundleVerdict, error) {
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("not a sigstore bundle: %w", err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, err
	}
	digest, err := hex.DecodeString(d.Hex)
	if err != nil {
		return nil, err
	}
	artifact := verify.WithArtifactDigest(d.Algorithm, digest)
	if vc.Certificate() == nil {
		var why []string
		for _, k := range keys {
			res, err := verifyWithKey(&b, artifact, k)
			if err != nil {
				why = append(why, fmt.Sprintf("key %s: %v", k.Path, err))
				continue
			}
			if err := checkType(predicateType(res)); err != nil {
				return nil, err
			}
			return &bundleVerdict{PredicateType: predicateType(res), Key: k.ID}, nil
		}
		if len(why) == 0 {
			return nil, errors.New("the bundle is signed with a key and no cosign public key is trusted")
		}
		return nil, errors.New(strings.Join(why, "; "))
	}
	if tr == nil {
		return nil, errors.New("the bundle is signed with a certificate and no trusted root is given (--trusted-root)")
	}
	if len(ids) == 0 {
		return nil, errors.New("the bundle is signed with a certificate and no identity is required (--certificate-identity-regexp and --certificate-oidc-issuer)")
	}
	opts := []verify.VerifierOption{verify.WithCurrentTime()}
	if entries, _ := b.TlogEntries(); len(entries) > 0 && len(tr.material.RekorLogs()) > 0 {
		opts = []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}
	}
	v, err := verify.NewVerifier(tr.material, opts...)
	if err != nil {
		return nil, err
	}
	var why []string
	for _, id := range ids {
		san, err := verify.NewSANMatcher("", id.SubjectRegexp)
		if err != nil {
			return nil, err
		}
		iss, err := verify.NewIssuerMatcher(id.Issuer, "")
		if err != nil {
			return nil, err
		}
		ci, err := verify.NewCertificateIdentity(san, iss, certificate.Extensions{})
		if err != nil {
			return nil, err
		}
		res, err := v.Verify(&b, verify.NewPolicy(artifact, verify.WithCertificateIdentity(ci)))
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		out := &bundleVerdict{PredicateType: predicateType(res)}
		if c := res.Signature.Certificate; c != nil {
			out.Identity = &manifest.Identity{Subject: c.SubjectAlternativeName, Issuer: c.Issuer}
			if err := out.Identity.Check(); err != nil {
				return nil, fmt.Errorf("the certificate's identity cannot be recorded: %w", err)
			}
		}
		if err := checkType(out.PredicateType); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errors.New(strings.Join(why, "; "))
}

func verifyWithKey(b *sgbundle.Bundle, artifact verify.ArtifactPolicyOption, k *Key) (*verify.VerificationResult, error) {
	key := root.NewExpiringKey(k.verifier, time.Time{}, time.Time{})
	material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(material, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	return v.Verify(b, verify.NewPolicy(artifact, verify.WithKey()))
}

// checkType refuses a predicate type that the manifest could not record.
func checkType(t string) error {
	if t == SignPredicate {
		return nil
	}
	return manifest.CheckPredicateType(t)
}

// predicateType is the verified statement's predicate type; a bundle with
// a plain message signature (no statement) counts as a signature.
func predicateType(res *verify.VerificationResult) string {
	if res.Statement == nil {
		return SignPredicate
	}
	return res.Statement.PredicateType
}

// Signers names who signed, for messages: "key ID1, ID2 and identity S
// (issuer I)".
func Signers(keys []string, ids []manifest.Identity) string {
	var by []string
	if len(keys) > 0 {
		by = append(by, "key "+strings.Join(keys, ", "))
	}
	for _, id := range ids {
		by = append(by, fmt.Sprintf("identity %s (issuer %s)", id.Subject, id.Issuer))
	}
	return strings.Join(by, " and ")
}
