package keys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/internal/hexdigits"
)

// Public is a trusted public key with its id.
type Public struct {
	Key  ed25519.PublicKey
	ID   string
	Path string // the file it came from, for messages
}

// ID is the key id recorded in manifests: the first 16 hex digits of the
// SHA-256 of the key's PKIX (SubjectPublicKeyInfo) DER encoding, so that
// `openssl pkey -pubin -in K.pub -outform DER | sha256sum` shows it too.
func ID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // cannot happen for a well-formed ed25519 key
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// IsID reports whether s has the form of a key id (16 lowercase hex digits).
func IsID(s string) bool {
	return hexdigits.IsLower(s, 16)
}

// Generate writes a new key pair as BASE.key (mode 0600) and BASE.pub and
// returns the key id. It refuses to overwrite either file.
func Generate(base string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return "", fmt.Errorf("generating key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encoding private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	keyPath, pubPath := base+".key", base+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", fmt.Errorf("%s already exists; choose another name or remove it", p)
		}
	}
	if err := writeNew(keyPath, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})); err != nil {
		return "", err
	}
	if err := writeNew(pubPath, 0o644, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})); err != nil {
		os.Remove(keyPath)
		return "", err
	}
	return ID(pub), nil
}

// writeNew creates path exclusively and removes it again if writing fails.
func writeNew(path string, mode os.FileMode, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	return nil
}

// LoadPrivate reads a PKCS#8 PEM Ed25519 private key.
func LoadPrivate(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("key file %s: not a PKCS#8 private key: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s: not an ed25519 key (%T); create one with airlock keygen", path, k)
	}
	return priv, nil
}

// LoadPublic reads a PKIX PEM Ed25519 public key.
func LoadPublic(path string) (Public, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return Public{}, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return Public{}, fmt.Errorf("key file %s: not a PKIX public key: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return Public{}, fmt.Errorf("key file %s: not an ed25519 key (%T)", path, k)
	}
	return Public{Key: pub, ID: ID(pub), Path: path}, nil
}

// MaxKeyFileSize bounds a key file; airlock's own are a few hundred bytes.
const MaxKeyFileSize = 64 << 10

// NotRegularError is returned for a key path that is not a regular file (a
// FIFO, a device, a socket): key files are read only when reading them
// cannot block.
type NotRegularError struct {
	Path string
	Mode os.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("key file %s is not a regular file (%s); keys are read from regular files only", e.Path, fileKind(e.Mode))
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "mode " + m.String()
}

// Warning is something a caller should tell the user about a key file
// that was skipped or used.
type Warning struct {
	Path   string
	Reason string
}

func (w Warning) String() string { return w.Path + ": " + w.Reason }

// LoadTrusted reads public keys from files and from directories (every
// *.pub file in them). A path given directly must be a regular file; a
// *.pub in a directory that is not one (a FIFO, say) is skipped with a
// Warning. It fails when no key is found at all.
func LoadTrusted(paths []string) ([]Public, []Warning, error) {
	var (
		files    []string
		warnings []Warning
	)
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("public key %s: %w", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := filepath.Glob(filepath.Join(p, "*.pub"))
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(found)
		n := 0
		for _, f := range found {
			if fi, err := os.Stat(f); err == nil && !fi.Mode().IsRegular() {
				warnings = append(warnings, Warning{Path: f, Reason: "skipped: not a regular file (" + fileKind(fi.Mode()) + ")"})
				continue
			}
			files = append(files, f)
			n++
		}
		if n == 0 {
			return nil, warnings, fmt.Errorf("public key directory %s holds no *.pub file that is a regular file", p)
		}
	}
	if len(files) == 0 {
		return nil, warnings, errors.New("no public key given; pass --pub KEY.pub (a file or a directory of trusted keys)")
	}
	var trusted []Public
	for _, f := range files {
		pub, err := LoadPublic(f)
		if err != nil {
			return nil, warnings, err
		}
		trusted = append(trusted, pub)
	}
	return trusted, warnings, nil
}

// CheckPrivateMode returns a Warning when the private key file at path
// can be read by its group or by others.
func CheckPrivateMode(path string) *Warning {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return &Warning{Path: path, Reason: fmt.Sprintf("private key is readable by group or others (mode %04o)", fi.Mode().Perm())}
}

// readKeyFile reads a small regular file without ever blocking on it.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, cause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, cause(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	data, err := bounded.ReadAll(f, MaxKeyFileSize, "key file "+path)
	if errors.As(err, new(*bounded.TooLargeError)) {
		return nil, fmt.Errorf("%w; not a key", err)
	}
	return data, err
}

// cause drops the path from an *os.PathError, which messages name already.
func cause(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func readPEM(path, wantType string) ([]byte, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("key file %s: not a PEM key; expected %q", path, "-----BEGIN "+wantType+"-----")
	}
	if block.Type != wantType {
		hint := ""
		if strings.Contains(block.Type, "PRIVATE") && wantType == "PUBLIC KEY" {
			hint = "; pass the .pub file, never the private key"
		}
		return nil, fmt.Errorf("key file %s: holds a %q block, expected %q%s", path, block.Type, wantType, hint)
	}
	return block.Bytes, nil
}
