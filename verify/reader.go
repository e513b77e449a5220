package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
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
}

// WithNote adds what note returns, when not empty, to the reason of a
// failure v reports, to say what the data is for (the images a shared
// member belongs to); it is called only on failure. It returns v.
func (v *Reader) WithNote(note func() string) *Reader {
	v.note = note
	return v
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
	v.h.Write(p[:n])
	v.n += int64(n)
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

func (v *Reader) finish() error {
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
