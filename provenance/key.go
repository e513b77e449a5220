package provenance

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/airlockhq/airlock/internal/bounded"
)

// maxKeyFile bounds a public key file.
const maxKeyFile = 64 << 10

// Key is a trusted cosign public key.
type Key struct {
	// Path is the file the key came from, for messages.
	Path string
	// ID is the first 16 hex digits of the SHA-256 of the key's PKIX DER
	// encoding, as for airlock's own keys.
	ID       string
	verifier signature.Verifier
}

// LoadKey reads a PEM public key as `cosign generate-key-pair` writes it
// (ECDSA P-256; RSA and Ed25519 keys work too).
func LoadKey(path string) (*Key, error) {
	b, err := readFile("cosign public key", path, maxKeyFile, "a PEM public key")
	if err != nil {
		return nil, err
	}
	return ParseKey(path, b)
}

// readFile reads the file path of at most limit bytes; what names it and
// want says what it should be, in messages.
func readFile(what, path string, limit int64, want string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s %s: larger than %d bytes, not %s", what, path, limit, want)
	}
	b, err := bounded.ReadFile(path, limit) // it may have grown since
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return b, nil
}

// ParseKey parses a PEM public key; path names it in messages.
func ParseKey(path string, pemBytes []byte) (*Key, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("cosign public key %s: %w", path, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("cosign public key %s: %w", path, err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("cosign public key %s: %w", path, err)
	}
	sum := sha256.Sum256(der)
	return &Key{Path: path, ID: hex.EncodeToString(sum[:8]), verifier: v}, nil
}
