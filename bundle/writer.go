package bundle

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/airlockhq/airlock/internal/ctxio"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// Payload is one entry to put in a bundle.
type Payload struct {
	Path   string
	Size   int64  // ignored when SHA256 is empty: both are then computed
	SHA256 string // lowercase hex; empty to have Write hash the data first
	Image  *manifest.Image
	Binary *manifest.Binary // a carried airlock binary (docs/format.md section 14)
	// Members and MemberSizes make the payload a format 2 pack: its data
	// is these members one after the other (docs/format-v2.md section 6).
	// Without SHA256, each member is checked against its name as the data
	// is hashed; with it, the whole data against SHA256 only.
	Members     []string
	MemberSizes []int64
	// MemberCRCs, when set, are the CRC-32C of each member's bytes as the
	// caller compressed and named them in this process, before writing
	// them where Open reads them: the writer then checks each member
	// against its CRC instead of its name and, when SHA256 is given too,
	// does not hash the data at all (the caller vouches that SHA256 was
	// taken of the bytes the CRCs were).
	MemberCRCs []uint32
	Open       func() (io.ReadCloser, error)
}

// checked is a reader of p's data that fails on bytes that are not what
// p declares: its size always, its members (see Payload), and its SHA256
// when given. Sum gives the data's SHA-256 once read.
func (p *Payload) checked(r io.Reader) *verify.Reader {
	v := verify.NewReader(r, p.Size, p.SHA256, p.Path, nil)
	switch {
	case p.MemberCRCs != nil:
		v.WithMemberCRCs(p.Members, p.MemberSizes, p.MemberCRCs)
		if p.SHA256 != "" {
			v.TrustSum()
		}
	case p.Members != nil && p.SHA256 == "":
		v.WithMembers(p.Members, p.MemberSizes, nil)
	}
	return v
}

// entry is the manifest entry of p.
func (p *Payload) entry() manifest.Entry {
	return manifest.Entry{Path: p.Path, Size: p.Size, SHA256: p.SHA256, Image: p.Image, Binary: p.Binary,
		Members: p.Members, MemberSizes: p.MemberSizes}
}

// Result describes a bundle that was written.
type Result struct {
	Files    []string // the bundle file or its parts, in order
	Extra    []string // parity parts, the part index and its signature
	ID       string
	Manifest *manifest.Manifest
	Digest   string // sha256 of manifest.json: the bundle's digest (docs/format.md section 5, Freshness)
	Bytes    int64  // size of the whole tar stream
	// Reslotted says how a Stream fitted its head slot when the estimate
	// was off: "shifted" or "copied" (see Stream.Reslotted); "" otherwise.
	Reslotted string
}

// Write creates a signed bundle named after base (base.tar, or
// base.tar.001... with WithPartSize) holding payloads sorted by path. It
// re-hashes every payload while writing it and fails, leaving nothing behind,
// when one does not match its declared size and checksum (a *verify.Error
// naming the payload). It never replaces a file: a bundle of that name that
// appears while Write runs makes it fail with a *ExistsError. Failures to
// write are *WriteError. A part size and parity that cannot work together
// are refused with a *SplitError, and a bundle needing more parts than
// MaxParts or the parity allows with a *TooManyPartsError, before any
// file is created.
func Write(ctx context.Context, base string, priv ed25519.PrivateKey, payloads []Payload, opts ...Option) (*Result, error) {
	o := makeOptions(opts)
	if err := CheckSplit(o.partSize, o.parity); err != nil {
		return nil, err
	}
	if err := CheckSplitName(base, o.partSize); err != nil {
		return nil, err
	}
	payloads, err := complete(ctx, payloads)
	if err != nil {
		return nil, err
	}
	entries := make([]manifest.Entry, 0, len(payloads))
	for _, p := range payloads {
		entries = append(entries, p.entry())
	}
	h, err := signHead(base, priv, o, entries)
	if err != nil {
		return nil, err
	}
	m, mjson, sums, sig := h.m, h.mjson, h.sums, h.sig
	size, err := streamSize(o.created, sums, sig, mjson, payloads)
	if err != nil {
		return nil, err
	}
	if err := CheckParts(size, o.partSize, o.parity, false); err != nil {
		return nil, err
	}

	pw, err := newPartWriter(BaseName(base), o.partSize)
	if err != nil {
		return nil, err
	}
	if o.parity == 0 {
		pw.dropBehindFrom(0) // nothing is read back: the head leads the stream
	}
	n, err := writeStream(ctx, pw, o, sums, sig, mjson, payloads)
	if err == nil && o.partSize > 0 {
		err = pw.finishSplit(ctx, priv, ID(sums), n, o.parity)
	}
	if err != nil {
		pw.Abort()
		return nil, err
	}
	ndata := pw.dataParts()
	files, err := pw.Commit(ctx)
	if err != nil {
		pw.Abort()
		return nil, err
	}
	return &Result{Files: files[:ndata], Extra: files[ndata:], ID: ID(sums), Manifest: m, Digest: h.digest, Bytes: n}, nil
}

// head is a bundle's signed head: its manifest, manifest.json, SHA256SUMS
// and the signature over it.
type head struct {
	m                *manifest.Manifest
	mjson, sums, sig []byte
	digest           string // sha256 of manifest.json
}

// signHead builds, checks and signs the head of the bundle base holding
// entries, refusing one that readers would refuse for its size.
func signHead(base string, priv ed25519.PrivateKey, o options, entries []manifest.Entry) (*head, error) {
	m := &manifest.Manifest{
		Format:  o.format,
		Created: o.created,
		Entries: entries,
		Images:  o.images,
		Have:    o.have,
		Signer:  keys.ID(priv.Public().(ed25519.PublicKey)),
		Tool:    o.tool,
		Base:    o.base,

		Freshness: o.fresh,
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("not writing bundle %s: %w", base, err)
	}
	mjson, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	msum := sha256.Sum256(mjson)
	digest := hex.EncodeToString(msum[:])
	sums := manifest.FormatSums(m.Sums(digest))
	for _, f := range []struct {
		name        string
		size, limit int
	}{{manifest.SumsName, len(sums), manifest.MaxSumsSize}, {manifest.ManifestName, len(mjson), manifest.MaxManifestSize}} {
		if f.size > f.limit {
			return nil, &HeadTooLargeError{Name: f.name, Size: f.size, Limit: f.limit, Images: len(m.Images) + countImages(m.Entries)}
		}
	}
	return &head{m: m, mjson: mjson, sums: sums, sig: verify.Sign(priv, sums), digest: digest}, nil
}

// countImages counts the format 1 image entries among es.
func countImages(es []manifest.Entry) int {
	n := 0
	for _, e := range es {
		if e.Image != nil {
			n++
		}
	}
	return n
}

// ID is a bundle's id: the first 16 hex digits of the SHA-256 of its
// SHA256SUMS, so it is fixed by the signed content.
func ID(sums []byte) string {
	h := sha256.Sum256(sums)
	return hex.EncodeToString(h[:8])
}

// complete checks payload paths, sorts them and hashes those without a
// checksum.
func complete(ctx context.Context, payloads []Payload) ([]Payload, error) {
	out := append([]Payload(nil), payloads...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	for i := range out {
		p := &out[i]
		if err := checkPayloadPath(p.Path); err != nil {
			return nil, err
		}
		if i > 0 && out[i-1].Path == p.Path {
			return nil, fmt.Errorf("payload %s is given twice", p.Path)
		}
		if p.SHA256 == "" {
			size, sum, err := hashPayload(ctx, *p)
			if err != nil {
				return nil, err
			}
			p.Size, p.SHA256 = size, sum
		}
	}
	return out, nil
}

// checkPayloadPath refuses a payload path that is not a clean entry name
// or that names an entry of the head.
func checkPayloadPath(path string) error {
	if err := manifest.CheckName(path); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if path == manifest.SumsName || path == manifest.SigName || path == manifest.ManifestName || path == manifest.HeadPadName {
		return fmt.Errorf("payload %s uses a reserved name", path)
	}
	return nil
}

func hashPayload(ctx context.Context, p Payload) (int64, string, error) {
	rc, err := p.Open()
	if err != nil {
		return 0, "", fmt.Errorf("opening payload %s: %w", p.Path, err)
	}
	defer rc.Close()
	if p.Members != nil {
		v := p.checked(ctxio.Reader(ctx, rc))
		if _, err := io.Copy(io.Discard, v); err != nil {
			return 0, "", payloadErr(p, "is not what it was declared to be", err)
		}
		return p.Size, v.Sum(), nil
	}
	h := sha256.New()
	n, err := io.Copy(h, ctxio.Reader(ctx, rc))
	if err != nil {
		return 0, "", fmt.Errorf("reading payload %s: %w", p.Path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// payloadErr says what went wrong reading payload p; failed says what a
// verification failure means.
func payloadErr(p Payload, failed string, err error) error {
	var we *WriteError
	switch {
	case verify.IsFailure(err):
		return fmt.Errorf("payload %s %s: %w", p.Path, failed, err)
	case errors.As(err, &we), errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("reading payload %s: %w", p.Path, err)
}

func writeStream(ctx context.Context, w io.Writer, o options, sums, sig, mjson []byte, payloads []Payload) (int64, error) {
	cw := &ctxio.ProgressWriter{W: w}
	bw := bufio.NewWriterSize(cw, copyBufferSize)
	tw := tar.NewWriter(bw)
	for _, f := range []struct {
		name string
		data []byte
	}{{manifest.SumsName, sums}, {manifest.SigName, sig}, {manifest.ManifestName, mjson}} {
		if err := tw.WriteHeader(header(f.name, int64(len(f.data)), o.created)); err != nil {
			return 0, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return 0, err
		}
	}
	buf := make([]byte, copyBufferSize)
	for _, p := range payloads {
		if _, err := writePayload(ctx, tw, o, p, buf); err != nil {
			return 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return cw.N, nil
}

// writePayload writes p as the next entry of tw, copying through buf
// (one buffer for every payload: a bundle may hold 100 000 members), and
// returns its SHA-256. A pack without a SHA256 (see Payload) is hashed
// and its members checked as it is written.
func writePayload(ctx context.Context, tw *tar.Writer, o options, p Payload, buf []byte) (string, error) {
	rc, err := p.Open()
	if err != nil {
		return "", fmt.Errorf("opening payload %s: %w", p.Path, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(header(p.Path, p.Size, o.created)); err != nil {
		return "", err
	}
	src := p.checked(ctxio.Reader(ctx, rc))
	var dst io.Writer = tw
	if o.progress != nil {
		dst = &ctxio.ProgressWriter{W: tw, Report: func(n int64) { o.progress(p.Path, n) }}
	}
	if _, err := io.CopyBuffer(dst, src, buf); err != nil {
		return "", payloadErr(p, "changed since it was hashed", err)
	}
	return src.Sum(), nil
}

// streamSize is the exact length of the tar stream writeStream writes.
func streamSize(created time.Time, sums, sig, mjson []byte, payloads []Payload) (int64, error) {
	total := int64(2 * blockSize) // the end-of-archive marker
	add := func(name string, size int64) error {
		cw := &ctxio.ProgressWriter{W: io.Discard}
		if err := tar.NewWriter(cw).WriteHeader(header(name, size, created)); err != nil {
			return err
		}
		total += cw.N + (size+blockSize-1)/blockSize*blockSize
		return nil
	}
	for _, f := range []struct {
		name string
		size int
	}{{manifest.SumsName, len(sums)}, {manifest.SigName, len(sig)}, {manifest.ManifestName, len(mjson)}} {
		if err := add(f.name, int64(f.size)); err != nil {
			return 0, err
		}
	}
	for _, p := range payloads {
		if err := add(p.Path, p.Size); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// header is the fixed header of every bundle entry: only name, size and
// the bundle's creation time vary, so bundles are reproducible.
func header(name string, size int64, created time.Time) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  created,
	}
}
