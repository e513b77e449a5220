// Package provenance checks upstream cosign signatures of images before
// they are exported, and re-checks the evidence a bundle carries on the
// disconnected side.
//
// At export, Verifier.Check fetches the signatures cosign attaches to an
// image (the "sha256-<digest>.sig" tag in the image's repository) and
// verifies them with cosign's own library against trusted PEM public keys,
// fully offline: no transparency log, no certificate authority. For an
// image resolved through an index, the index digest and the platform
// manifest digest are both tried, whichever the publisher signed.
//
// Signatures in sigstore's bundle format (cosign sign --new-bundle-format),
// attached through the OCI referrers API or its tag fallback, are read as
// well and verified with sigstore-go's verifier: key-based with the same
// keys, or certificate-based against a trusted root (LoadTrustedRoot) and
// an identity policy (IdentityPolicy), still without any network beyond
// the registry. Attestations in the same format (SBOMs, SLSA provenance)
// are verified alike and, when the policy asks, recorded and carried.
//
// The result is recorded in the bundle's signed manifest
// (manifest.Signature); optionally the manifests, config and signature
// payloads travel as content-addressed entries under "signatures/", and
// CheckCarried re-checks them without any network. docs/format.md
// specifies both.
package provenance
