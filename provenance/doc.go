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
// The result is recorded in the bundle's signed manifest
// (manifest.Signature); optionally the manifests, config and signature
// payloads travel as content-addressed entries under "signatures/", and
// CheckCarried re-checks them without any network. docs/format.md
// specifies both.
package provenance
