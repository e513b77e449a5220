package verify

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/keys"
)

// Sign returns the detached Ed25519 signature over the exact sums bytes.
func Sign(priv ed25519.PrivateKey, sums []byte) []byte {
	return ed25519.Sign(priv, sums)
}

// Signature checks sig over sums against every trusted key and returns the
// key that made it. An unknown key or a bad signature is an *Error.
func Signature(sums, sig []byte, trusted []keys.Public) (keys.Public, error) {
	if len(sig) != ed25519.SignatureSize {
		return keys.Public{}, &Error{Entry: "SHA256SUMS.sig", Reason: fmt.Sprintf("signature is %d bytes, an ed25519 signature is %d", len(sig), ed25519.SignatureSize)}
	}
	for _, k := range trusted {
		if ed25519.Verify(k.Key, sums, sig) {
			return k, nil
		}
	}
	ids := make([]string, len(trusted))
	for i, k := range trusted {
		ids[i] = k.ID
	}
	return keys.Public{}, &Error{Entry: "SHA256SUMS", Kind: ErrUntrustedSignature, Reason: "signature does not match any trusted key (" + strings.Join(ids, ", ") + "); the bundle was signed by another key or changed after signing"}
}
