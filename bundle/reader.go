package bundle

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// Reader reads a bundle whose signature has been checked. Each payload
// entry is hashed while it is read and checked against the signed manifest.
type Reader struct {
	Files    []string
	ID       string
	Signer   keys.Public
	Manifest *manifest.Manifest
	Sums     []byte // the signed SHA256SUMS, verbatim
	Sig      []byte
	Raw      []byte   // manifest.json, verbatim
	Set      *PartSet // the signed part index and every file it lists, when the bundle has one
	// Ignored lists files given or found that were not read: those of
	// Set.Ignored, and, without a part index, parts that lie wholly after
	// the end of the tar stream (known once Next returned io.EOF).
	Ignored []Ignored

	parts   *partReader
	buf     *bufio.Reader
	tr      *tar.Reader
	entries map[string]*manifest.Entry
	seen    map[string]bool
	cur     *Entry
	done    bool
	next    *tar.Header // read past the head slot, not yet returned by Next
}

// Entry is a payload entry being read. Read returns an *verify.Error in
// place of io.EOF when the entry does not match the manifest.
type Entry struct {
	*manifest.Entry
	*verify.Reader
	Offset int64 // where the entry's data starts in the tar stream (see Reader.Section)
}

// Open resolves the bundle files named by args, reads the signed header
// entries and checks the signature against trusted keys before anything
// else. A split bundle with a part index (see FindSet) may be given as parts
// from several folders in any order; every data part must be at hand with
// its signed size, and each part's SHA-256 is checked as the stream leaves
// it. Without an index, args are resolved by ResolveParts. Close the Reader
// when done.
func Open(args []string, trusted []keys.Public) (*Reader, error) {
	set, err := FindSet(args, trusted)
	if err != nil {
		return nil, err
	}
	if set != nil {
		return OpenSet(set, trusted)
	}
	files, err := ResolveParts(args)
	if err != nil {
		return nil, err
	}
	return open(files, nil, trusted)
}

// OpenSet opens the bundle of a part set whose data parts are all at hand.
func OpenSet(set *PartSet, trusted []keys.Public) (*Reader, error) {
	files, err := set.DataPaths()
	if err != nil {
		return nil, err
	}
	r, err := open(files, set, trusted)
	if err != nil {
		return nil, err
	}
	if r.ID != set.Index.Bundle {
		r.Close()
		return nil, &verify.Error{Part: set.IndexPath, Reason: fmt.Sprintf("is the part index of bundle %s, but the parts hold bundle %s", set.Index.Bundle, r.ID)}
	}
	return r, nil
}

func open(files []string, set *PartSet, trusted []keys.Public) (*Reader, error) {
	parts, err := openParts(files)
	if err != nil {
		return nil, err
	}
	if set != nil {
		parts.checkParts(set)
	}
	r := &Reader{Files: files, Set: set, parts: parts, buf: bufio.NewReaderSize(parts, copyBufferSize)}
	if set != nil {
		r.Ignored = set.Ignored
	}
	r.tr = tar.NewReader(r.buf)
	if err := r.readHead(trusted); err != nil {
		err = r.blame(err)
		parts.Close()
		return nil, err
	}
	return r, nil
}

// blame turns a verification failure into the failure of the exact part at
// fault, when the part index can tell: it reads on to the end of the
// current part and checks its hash.
func (r *Reader) blame(err error) error {
	if r.Set == nil || !verify.IsFailure(err) {
		return err
	}
	if perr := r.parts.finishPart(); perr != nil && verify.IsFailure(perr) {
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Entry != "" {
			var pe *verify.Error
			errors.As(perr, &pe)
			return &verify.Error{Entry: ve.Entry, Part: pe.Part, Reason: pe.Reason}
		}
		return perr
	}
	return err
}

func (r *Reader) readHead(trusted []keys.Public) error {
	sums, err := r.readSmall(manifest.SumsName, manifest.MaxSumsSize, true)
	if err != nil {
		return err
	}
	sig, err := r.readSmall(manifest.SigName, 1024, false)
	if err != nil {
		return err
	}
	raw, err := r.readSmall(manifest.ManifestName, manifest.MaxManifestSize, false)
	if err != nil {
		return err
	}
	signer, m, err := VerifyHead(sums, sig, raw, trusted)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Part == "" {
			ve.Part = r.part()
		}
		return err
	}
	r.ID, r.Signer, r.Manifest, r.Sums, r.Sig, r.Raw = ID(sums), signer, m, sums, sig, raw
	r.entries = make(map[string]*manifest.Entry, len(m.Entries))
	for i := range m.Entries {
		r.entries[m.Entries[i].Path] = &m.Entries[i]
	}
	r.seen = make(map[string]bool, len(m.Entries))
	if m.Format == manifest.FormatV2 {
		return r.skipHeadSlot()
	}
	return nil
}

// headSlot is the unit of a format 2 head slot (docs/format-v2.md section 5).
const headSlot = 1 << 20

// skipHeadSlot reads the HEAD.pad entry that may follow manifest.json in
// a format 2 bundle (rule 7: zeros only, ending the head on a multiple of
// 1 MiB), keeping any other entry for Next.
func (r *Reader) skipHeadSlot() error {
	hdr, err := r.tr.Next()
	if errors.Is(err, io.EOF) {
		return nil // Next reports the entries missing
	}
	if err != nil {
		return r.streamErr(err)
	}
	if hdr.Name != manifest.HeadPadName {
		r.next = hdr
		return nil
	}
	if hdr.Typeflag != tar.TypeReg {
		return r.fail(hdr.Name, "is not a regular file")
	}
	buf := make([]byte, copyBufferSize)
	for {
		n, err := r.tr.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return r.fail(hdr.Name, "holds a byte that is not zero; it only fills the reserved head")
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.streamErr(err)
		}
	}
	if end := r.offset() + (hdr.Size+blockSize-1)/blockSize*blockSize - hdr.Size; end%headSlot != 0 {
		return r.fail(hdr.Name, fmt.Sprintf("ends the head at byte %d, not on a multiple of %d", end, headSlot))
	}
	return nil
}

// VerifyHead checks the signed beginning of a bundle (SHA256SUMS, its
// signature and manifest.json, however they were obtained): the signature
// against trusted keys first, then that the manifest is the one the sums
// list and lists exactly the same entries. Failures are *verify.Error.
func VerifyHead(sums, sig, raw []byte, trusted []keys.Public) (keys.Public, *manifest.Manifest, error) {
	signer, err := verify.Signature(sums, sig, trusted)
	if err != nil {
		return keys.Public{}, nil, withClaimedSigner(err, raw)
	}
	list, err := manifest.ParseSums(sums)
	if err != nil {
		return keys.Public{}, nil, &verify.Error{Entry: manifest.SumsName, Reason: err.Error()}
	}
	h := sha256.Sum256(raw)
	msum := hex.EncodeToString(h[:])
	fail := func(reason string) (keys.Public, *manifest.Manifest, error) {
		return keys.Public{}, nil, &verify.Error{Entry: manifest.ManifestName, Reason: reason}
	}
	if list[0].Name != manifest.ManifestName || list[0].SHA256 != msum {
		return fail("does not match the first line of the signed SHA256SUMS")
	}
	m, err := manifest.Parse(raw)
	var (
		ee *manifest.EntryError
		fe *manifest.FormatError
	)
	switch {
	case errors.As(err, &ee):
		return keys.Public{}, nil, &verify.Error{Entry: ee.Path, Reason: "the signed " + manifest.ManifestName + " breaks a rule: " + ee.Err.Error()}
	case errors.As(err, new(*manifest.HaveError)), errors.As(err, new(*manifest.BaseError)):
		return keys.Public{}, nil, &verify.Error{Entry: manifest.ManifestName, Reason: "the signed " + manifest.ManifestName + " breaks a rule: " + err.Error()}
	case errors.As(err, &fe):
		return keys.Public{}, nil, &verify.Error{Entry: manifest.ManifestName, Reason: err.Error(), Kind: fe}
	}
	if err != nil {
		return fail(err.Error())
	}
	if err := m.CheckAgainst(list, msum); err != nil {
		return fail(err.Error())
	}
	if m.Signer != signer.ID {
		return fail(fmt.Sprintf("names signer %s but was signed by key %s", m.Signer, signer.ID))
	}
	return signer, m, nil
}

// readSmall reads one of the fixed leading entries into memory.
func (r *Reader) readSmall(name string, max int64, first bool) ([]byte, error) {
	hdr, err := r.tr.Next()
	if err != nil {
		if first && errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is empty or not a tar file; not an airlock bundle", r.Files[0])
		}
		if first {
			return nil, fmt.Errorf("%s is not an airlock bundle: %v", r.Files[0], err)
		}
		return nil, r.streamErr(err)
	}
	if hdr.Name != name {
		if first {
			return nil, fmt.Errorf("%s is not an airlock bundle: it starts with %q, not %s", r.Files[0], hdr.Name, name)
		}
		if name == manifest.SigName {
			return nil, r.fail(name, "missing; the bundle is not signed")
		}
		return nil, r.fail(name, fmt.Sprintf("expected here, found %q", hdr.Name))
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size > max {
		return nil, r.fail(name, fmt.Sprintf("is not a regular file of at most %d bytes", max))
	}
	data, err := io.ReadAll(r.tr)
	if err != nil {
		return nil, r.streamErr(err)
	}
	return data, nil
}

// Next returns the next payload entry, or io.EOF once every entry listed in
// the manifest has been read and verified. Entries left unread are read and
// verified by the following call.
func (r *Reader) Next() (*Entry, error) {
	if r.done {
		return nil, io.EOF
	}
	if r.cur != nil {
		if err := r.cur.Drain(); err != nil {
			return nil, err
		}
		r.cur = nil
	}
	hdr, err := r.next, error(nil)
	if hdr != nil {
		r.next = nil
	} else {
		hdr, err = r.tr.Next()
	}
	if errors.Is(err, io.EOF) {
		return nil, r.finish()
	}
	if err != nil {
		return nil, r.streamErr(err)
	}
	e, err := r.entryFor(hdr)
	if err != nil {
		return nil, err
	}
	start := r.offset()
	v := verify.NewReader(entryStream{r, e.Path}, e.Size, e.SHA256, e.Path, func() string {
		return r.parts.span(start, r.offset())
	})
	if name, ok := strings.CutPrefix(e.Path, manifest.MembersFolder); ok {
		v.WithNote(func() string { return r.usedBy(name) })
	}
	if e.IsPack() {
		v.WithMembers(e.Members, e.MemberSizes, r.usedBy)
	}
	r.cur = &Entry{Entry: e, Offset: start, Reader: v}
	return r.cur, nil
}

func (r *Reader) entryFor(hdr *tar.Header) (*manifest.Entry, error) {
	if err := manifest.CheckName(hdr.Name); err != nil {
		return nil, r.fail(hdr.Name, "unsafe entry name: "+err.Error())
	}
	e, ok := r.entries[hdr.Name]
	if !ok {
		return nil, r.fail(hdr.Name, "not listed in the signed manifest")
	}
	if r.seen[hdr.Name] {
		return nil, r.fail(hdr.Name, "appears twice in the bundle")
	}
	r.seen[hdr.Name] = true
	if hdr.Typeflag != tar.TypeReg {
		return nil, r.fail(hdr.Name, fmt.Sprintf("is a tar entry of type %q, not a regular file", hdr.Typeflag))
	}
	if hdr.Size != e.Size {
		return nil, r.fail(hdr.Name, fmt.Sprintf("is %d bytes, the signed manifest says %d", hdr.Size, e.Size))
	}
	return e, nil
}

// usedBy says which images use the format 2 member name, for errors: a
// damaged member damages every image assembled from it.
func (r *Reader) usedBy(name string) string {
	var uses []string
	for _, im := range r.Manifest.Images {
		if i := slices.Index(im.Members, name); i >= 0 {
			uses = append(uses, fmt.Sprintf("member %d of %s", i, im.Path))
		}
	}
	if len(uses) > 3 {
		uses = append(uses[:3], fmt.Sprintf("%d more", len(uses)-3))
	}
	return strings.Join(uses, ", ")
}

func (r *Reader) finish() error {
	for _, e := range r.Manifest.Entries {
		if !r.seen[e.Path] {
			return r.fail(e.Path, "listed in the signed manifest but missing from the bundle (a part may be missing or truncated)")
		}
	}
	if r.Set != nil {
		// Read to the end so the last part's hash is checked too.
		if _, err := io.Copy(io.Discard, r.buf); err != nil {
			return err
		}
	} else {
		r.Ignored = append(r.Ignored, r.parts.after(r.offset())...)
	}
	r.done = true
	return io.EOF
}

// entryStream reads an entry's data and names the entry and part when the
// stream ends inside it.
type entryStream struct {
	r    *Reader
	name string
}

func (s entryStream) Read(p []byte) (int, error) {
	n, err := s.r.tr.Read(p)
	var ve *verify.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = &verify.Error{Entry: s.name, Part: s.r.part(), Reason: "bundle ends early inside this entry: this part is truncated or a later part is missing"}
	case errors.As(err, &ve) && ve.Entry == "":
		ve.Entry = s.name // a part that failed its index check
	}
	return n, err
}

// offset is how far into the tar stream the tar reader has read.
func (r *Reader) offset() int64 { return r.parts.n - int64(r.buf.Buffered()) }

// part names the part the tar reader is in.
func (r *Reader) part() string { return r.parts.partAt(r.offset()) }

func (r *Reader) streamErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &verify.Error{Part: r.part(), Reason: "bundle ends early: this part is truncated or a later part is missing"}
	}
	if errors.Is(err, tar.ErrHeader) || errors.Is(err, tar.ErrInsecurePath) {
		return &verify.Error{Part: r.part(), Reason: "not a valid tar stream here (" + err.Error() + "); parts may be out of order or damaged"}
	}
	return err
}

func (r *Reader) fail(entry, reason string) error {
	return &verify.Error{Entry: entry, Part: r.part(), Reason: reason}
}

// Close releases the bundle files.
func (r *Reader) Close() error { return r.parts.Close() }

// withClaimedSigner adds to a failed signature check the signer key id the
// manifest names, so the right public key can be found. The manifest is
// not verified at that point: the id is only a well-formed claim.
func withClaimedSigner(err error, raw []byte) error {
	var ve *verify.Error
	var claim struct {
		Signer string `json:"signer"`
	}
	if !errors.As(err, &ve) || json.Unmarshal(raw, &claim) != nil || !keys.IsID(claim.Signer) {
		return err
	}
	return &verify.Error{Part: ve.Part, Entry: ve.Entry, Kind: ve.Kind,
		Reason: ve.Reason + "; the bundle names signer key " + claim.Signer + " (unverified)"}
}
