package manifest

import "time"

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
}
