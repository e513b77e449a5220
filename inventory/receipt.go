package inventory

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/internal/hexdigits"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// FormatVersion is the receipt format this package reads and writes.
const FormatVersion = 1

// Type tells a receipt from the other JSON files airlock writes.
const Type = "airlock-receipt"

// MaxReceiptSize bounds the receipt a reader accepts.
const MaxReceiptSize = 64 << 20

// SigSuffix names a receipt's detached signature: FILE + SigSuffix.
const SigSuffix = ".sig"

// Receipt is what a bucket holds, as docs/receipt.md describes it.
type Receipt struct {
	Format      int       `json:"format"`
	Type        string    `json:"type"`
	Created     time.Time `json:"created"`
	Signer      string    `json:"signer,omitempty"` // key id of the receipt's signing key
	Tool        string    `json:"tool,omitempty"`
	Bucket      string    `json:"bucket"`
	Endpoint    string    `json:"endpoint,omitempty"`
	Prefix      string    `json:"prefix"` // the import prefix every key is relative to
	Deep        bool      `json:"deep"`   // every object's data was hashed
	TrustedKeys []string  `json:"trusted_keys"`
	Bundles     []Bundle  `json:"bundles"`
	Images      []Image   `json:"images"`   // present and intact, in key order
	LeftOut     []LeftOut `json:"left_out"` // recorded but not intact, in key order
	// Members are the gzip members the objects in Images are made of,
	// each once, in sha256 order (docs/receipt.md section 3).
	Members []HeldMember `json:"members,omitempty"`

	// SignedBy is the key that verified the receipt (not in the file); nil
	// for an unsigned receipt.
	SignedBy *keys.Public `json:"-"`
	// Unchecked: a signature file lies beside the receipt, but no key was
	// given to check it (an unsigned receipt was accepted instead).
	Unchecked bool `json:"-"`
}

// Bundle is one bundle record the receipt was made from.
type Bundle struct {
	ID      string    `json:"id"`
	Signer  string    `json:"signer"`
	Created time.Time `json:"created"`
}

// Image is one image object in the bucket.
type Image struct {
	Key      string `json:"key"` // relative to the receipt's prefix
	Digest   string `json:"digest"`
	Platform string `json:"platform"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Bundle   string `json:"bundle"` // id of the bundle record that lists it
	Source   string `json:"source,omitempty"`
	// Members are the gzip members of an image a format 2 bundle
	// delivered, tiling the object. Receipts list them in the receipt's
	// Members table instead; this is read from receipts of earlier
	// versions, and Build fills it until it makes the table.
	Members []Member `json:"members,omitempty"`
}

// HeldMember is one gzip member the bucket holds, and the object that
// holds it.
type HeldMember struct {
	SHA256 string `json:"sha256"`
	Key    string `json:"key"` // relative to the receipt's prefix; an image of Images
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
}

// Member is one gzip member inside an image object.
type Member struct {
	SHA256 string `json:"sha256"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
}

// Why an image was left out of a receipt.
const (
	Missing    = "missing"    // no object at the key
	Drifted    = "drifted"    // the object's size, recorded sha256 or (deep) data differs
	Unverified = "unverified" // the object has no recorded sha256 to check
)

// LeftOut is a recorded image that is not in the bucket intact.
type LeftOut struct {
	Image
	Reason string `json:"reason"` // Missing, Drifted or Unverified
	Detail string `json:"detail,omitempty"`
}

// Marshal renders r as a receipt file: indented JSON ending in a newline.
// Lists are never null.
func (r *Receipt) Marshal() ([]byte, error) {
	c := *r
	c.TrustedKeys = orEmpty(c.TrustedKeys)
	c.Bundles = orEmpty(c.Bundles)
	c.Images = orEmpty(c.Images)
	c.LeftOut = orEmpty(c.LeftOut)
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Sign sets the receipt's signer to priv's key id, renders it and returns
// the file's bytes and their detached signature: pure Ed25519 over exactly
// those bytes.
func (r *Receipt) Sign(priv ed25519.PrivateKey) (data, sig []byte, err error) {
	r.Signer = keys.ID(priv.Public().(ed25519.PublicKey))
	if data, err = r.Marshal(); err != nil {
		return nil, nil, err
	}
	return data, ed25519.Sign(priv, data), nil
}

// Parse decodes a receipt file and checks every field (docs/receipt.md,
// reader rules); it checks no signature.
func Parse(data []byte) (*Receipt, error) {
	var r Receipt
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&r); err != nil {
		return nil, fmt.Errorf("not a receipt: %w", err)
	}
	if r.Format != FormatVersion || r.Type != Type {
		return nil, fmt.Errorf("not a receipt of format %d (type %q, format %d); upgrade airlock or make it again with airlock inventory", FormatVersion, r.Type, r.Format)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Receipt) validate() error {
	if err := CheckPrefix(r.Prefix); err != nil {
		return err
	}
	keys := map[string]bool{}
	sizes := map[string]int64{}
	for _, im := range r.Images {
		if err := im.validate(); err != nil {
			return err
		}
		if keys[im.Key] {
			return fmt.Errorf("image %s is listed twice", im.Key)
		}
		keys[im.Key] = true
		sizes[im.Key] = im.Size
	}
	for i, m := range r.Members {
		if !manifest.IsSHA256Hex(m.SHA256) {
			return fmt.Errorf("member %d: malformed sha256 %q", i, m.SHA256)
		}
		if i > 0 && r.Members[i-1].SHA256 >= m.SHA256 {
			return fmt.Errorf("member %d (%s): listed twice or out of sha256 order", i, m.SHA256)
		}
		size, ok := sizes[m.Key]
		if !ok {
			return fmt.Errorf("member %d (%s): object %q is not an image of the receipt", i, m.SHA256, m.Key)
		}
		if m.Offset < 0 || m.Length <= 0 || m.Length > size || m.Offset > size-m.Length {
			return fmt.Errorf("member %d (%s): bytes at offset %d, length %d are not inside %s's %d bytes", i, m.SHA256, m.Offset, m.Length, m.Key, size)
		}
	}
	for _, l := range r.LeftOut {
		if err := l.validate(); err != nil {
			return err
		}
		if keys[l.Key] {
			return fmt.Errorf("image %s is listed twice", l.Key)
		}
		keys[l.Key] = true
		switch l.Reason {
		case Missing, Drifted, Unverified:
		default:
			return fmt.Errorf("left-out image %s: unknown reason %q", l.Key, l.Reason)
		}
	}
	return nil
}

func (im Image) validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("image %q: %s", im.Key, fmt.Sprintf(format, args...))
	}
	if err := concourse.ValidateKey(im.Key); err != nil {
		return fail("%v", err)
	}
	if d, err := v1.NewHash(im.Digest); err != nil || d.Algorithm != "sha256" {
		return fail("digest %q is not sha256:<64 hex digits>", im.Digest)
	}
	if p, err := v1.ParsePlatform(im.Platform); err != nil || p.OS == "" || p.Architecture == "" || p.String() != im.Platform {
		return fail("platform %q is not OS/ARCH[/VARIANT]", im.Platform)
	}
	if im.Size < 0 {
		return fail("negative size")
	}
	if !manifest.IsSHA256Hex(im.SHA256) {
		return fail("malformed sha256 %q", im.SHA256)
	}
	if !hexdigits.IsLower(im.Bundle, 16) {
		return fail("malformed bundle id %q", im.Bundle)
	}
	var end int64
	for i, m := range im.Members {
		if !manifest.IsSHA256Hex(m.SHA256) {
			return fail("member %d: malformed sha256 %q", i, m.SHA256)
		}
		if m.Offset != end || m.Length <= 0 || m.Length > im.Size-end {
			return fail("member %d (offset %d, length %d) does not continue the members before it inside the object's %d bytes", i, m.Offset, m.Length, im.Size)
		}
		end += m.Length
	}
	if len(im.Members) > 0 && end != im.Size {
		return fail("its members end at byte %d, not at its size %d", end, im.Size)
	}
	return nil
}

// CheckPrefix reports whether p is a usable import prefix: empty, or clean
// key levels ending in "/".
func CheckPrefix(p string) error {
	if p == "" {
		return nil
	}
	if !strings.HasSuffix(p, "/") {
		return fmt.Errorf("prefix %q does not end in /", p)
	}
	if err := concourse.ValidateKey(p + "x.tgz"); err != nil {
		return fmt.Errorf("prefix %q: %w", p, err)
	}
	return nil
}

// UnsignedError is a receipt without a signature, read by a caller that
// wants one. Like a bundle without one, it is a verification failure: it
// wraps a *verify.Error.
type UnsignedError struct{ Path string }

func (e *UnsignedError) Error() string {
	return fmt.Sprintf("receipt %s is not signed (no %s beside it)", e.Path, e.Path+SigSuffix)
}

func (e *UnsignedError) Unwrap() error {
	return &verify.Error{Entry: e.Path + SigSuffix, Reason: "missing"}
}

// Load reads the receipt file at path and checks it. When the signature
// file path+SigSuffix exists, it must verify against one of trusted and
// name its key as signer (a failure is a *verify.Error); a receipt without
// one is an *UnsignedError unless allowUnsigned.
func Load(path string, trusted []keys.Public, allowUnsigned bool) (*Receipt, error) {
	data, err := readSmall(path, MaxReceiptSize)
	if err != nil {
		return nil, err
	}
	sig, err := readSmall(path+SigSuffix, ed25519.SignatureSize+1)
	hasSig := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var signer *keys.Public
	switch {
	case hasSig && len(trusted) > 0:
		k, err := verify.Signature(data, sig, trusted)
		if err != nil {
			var ve *verify.Error
			if errors.As(err, &ve) {
				ve.Entry = path
				ve.Reason = strings.Replace(ve.Reason, "the bundle was", "the receipt was", 1)
			}
			return nil, err
		}
		signer = &k
	case !allowUnsigned && hasSig:
		return nil, fmt.Errorf("receipt %s is signed, but no key to check it was given", path)
	case !allowUnsigned:
		return nil, &UnsignedError{Path: path}
	}
	r, err := Parse(data)
	if err != nil {
		if signer != nil {
			return nil, &verify.Error{Entry: path, Reason: "the signed receipt breaks a rule: " + err.Error()}
		}
		return nil, fmt.Errorf("receipt %s: %w", path, err)
	}
	if signer != nil && r.Signer != signer.ID {
		return nil, &verify.Error{Entry: path, Reason: fmt.Sprintf("names signer %q but was signed by key %s", r.Signer, signer.ID)}
	}
	r.SignedBy = signer
	r.Unchecked = hasSig && signer == nil
	return r, nil
}

func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	defer f.Close()
	return bounded.ReadAll(f, max, path)
}
