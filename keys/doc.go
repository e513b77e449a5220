// Package keys creates, reads and names the Ed25519 keys that sign airlock
// bundles. Keys are stored as standard PEM (PKCS#8 private keys, PKIX public
// keys) so that openssl and other tools read them; see docs/format.md.
package keys
