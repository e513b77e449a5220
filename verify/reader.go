package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Reader passes through exactly size bytes of r while hashing them. At the
// end, instead of io.EOF, it returns an *Error if the data was shorter
// or hashed differently than expected, so a consumer that streams
// the data somewhere (an upload) sees the failure before it commits.
type Reader struct {
	r     io.Reader
	want  string
	size  int64
	n     int64
	h     hash.Hash
	entry string
	part  func() string
	note  func() string
	err   error

	// members, when set, checks the members the data holds one after the
	// other (a format 2 pack) against their names.
	members *members
	trusted bool // the data is not hashed: want is vouched for (TrustSum)
}

// members hashes each member of a pack on its own.
type members struct {
	names  []string
	sizes  []int64
	crcs   []uint32 // when set, what each member is checked against instead of its name
	usedBy func(name string) string
	i      int   // the member being read
	left   int64 // its bytes still to come
	h      hash.Hash
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WithNote adds what note returns, when not empty, to the reason of a
// failure v reports, to say what the data is for (the images a shared
// member belongs to); it is called only on failure. It returns v.
func (v *Reader) WithNote(note func() string) *Reader {
	v.note = note
	return v
}

// WithMembers makes v check, besides the whole data, that it is the
// members names of sizes one after the other, each hashing to its name
// (the members of a format 2 pack). usedBy, if not nil, says what a
// member is used for when it fails. It returns v.
func (v *Reader) WithMembers(names []string, sizes []int64, usedBy func(name string) string) *Reader {
	v.members = &members{names: names, sizes: sizes, usedBy: usedBy, h: sha256.New()}
	if len(sizes) > 0 {
		v.members.left = sizes[0]
	}
	return v
}

// WithMemberCRCs is WithMembers checking each member against crcs, the
// CRC-32C (Castagnoli) of its bytes as the caller produced them, instead
// of its name: for bytes this process named moments ago and wrote out,
// read back before they are carried on, where the question is whether
// they are still the bytes named, not what they are. It is a tenth of
// the cost of SHA-256. It returns v.
func (v *Reader) WithMemberCRCs(names []string, sizes []int64, crcs []uint32) *Reader {
	v.WithMembers(names, sizes, nil)
	v.members.crcs, v.members.h = crcs, crc32.New(castagnoli)
	return v
}

// TrustSum makes v not hash the data at all: the caller vouches that the
// data, as checked another way (WithMemberCRCs), hashes to wantHex. Sum
// then returns wantHex. It returns v.
func (v *Reader) TrustSum() *Reader {
	v.trusted = true
	return v
}

// Sum is the hex SHA-256 of the data read so far: the whole data's, once
// Read has returned io.EOF. With wantHex empty, NewReader checks only the
// size, and Sum gives the checksum.
func (v *Reader) Sum() string {
	if v.trusted {
		return v.want
	}
	return hex.EncodeToString(v.h.Sum(nil))
}

// NewReader checks that r yields size bytes with SHA-256 wantHex. entry
// names the data in errors; part, if not nil, tells where the data is read.
func NewReader(r io.Reader, size int64, wantHex, entry string, part func() string) *Reader {
	return &Reader{r: r, want: wantHex, size: size, h: sha256.New(), entry: entry, part: part}
}

func (v *Reader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if rem := v.size - v.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	if len(p) == 0 {
		v.err = v.finish()
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if !v.trusted {
		v.h.Write(p[:n])
	}
	v.n += int64(n)
	if v.members != nil {
		if merr := v.checkMembers(p[:n]); merr != nil {
			v.err = merr
			return n, merr
		}
	}
	if err == io.EOF {
		if v.n < v.size {
			v.err = v.fail(fmt.Sprintf("data ends after %d of %d bytes", v.n, v.size))
			return n, v.err
		}
		err = nil
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

// checkMembers hashes b, the data's next bytes, into the members they
// belong to, checking each member that ends.
func (v *Reader) checkMembers(b []byte) error {
	m := v.members
	for len(b) > 0 {
		if m.i >= len(m.sizes) {
			return v.fail("holds more bytes than its members add up to")
		}
		k := min(int64(len(b)), m.left)
		m.h.Write(b[:k])
		b, m.left = b[k:], m.left-k
		if m.left > 0 {
			break
		}
		name := m.names[m.i]
		if m.crcs != nil {
			if got := m.h.(hash.Hash32).Sum32(); got != m.crcs[m.i] {
				return &Error{Entry: v.entry, Part: v.partName(), Member: name, Reason: fmt.Sprintf(
					"member %d (%s) of it changed since it was written: CRC-32C %08x, it was %08x; something altered the file while this run used it (a failing disk, or another process): check the disk and run again", m.i, name, got, m.crcs[m.i])}
			}
		} else if got := hex.EncodeToString(m.h.Sum(nil)); got != name {
			reason := fmt.Sprintf("member %d (%s) of it has sha256 %s, not its name", m.i, name, got)
			if m.usedBy != nil {
				if u := m.usedBy(name); u != "" {
					reason += " (" + u + ")"
				}
			}
			return &Error{Entry: v.entry, Reason: reason, Part: v.partName(), Member: name}
		}
		m.h.Reset()
		if m.i++; m.i < len(m.sizes) {
			m.left = m.sizes[m.i]
		}
	}
	return nil
}

func (v *Reader) partName() string {
	if v.part == nil {
		return ""
	}
	return v.part()
}

func (v *Reader) finish() error {
	if v.want == "" || v.trusted {
		return io.EOF
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return v.fail(fmt.Sprintf("sha256 is %s, the signed manifest says %s", got, v.want))
	}
	return io.EOF
}

func (v *Reader) fail(reason string) error {
	if v.note != nil {
		if n := v.note(); n != "" {
			reason += " (" + n + ")"
		}
	}
	e := &Error{Entry: v.entry, Reason: reason}
	if v.part != nil {
		e.Part = v.part()
	}
	return e
}

// Drain reads the rest of the data and returns nil when it was all correct.
func (v *Reader) Drain() error {
	_, err := io.Copy(io.Discard, v)
	return err
}
