// Package verify holds airlock's trust checks: the Ed25519 signature over a
// bundle's SHA256SUMS, checksums computed while data streams past, and the
// Error type that marks a verification failure (exit code 3 in the CLI).
package verify
