package rootfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// Member cutting thresholds of docs/format-v2.md section 3. They decide
// member identity: two writers share members only when they cut alike.
const (
	// MemberMinRun is the size a run of tar entries reaches before a
	// content-defined cut may end it.
	MemberMinRun = 64 << 10
	// MemberCutScale is S of the cut test: past MemberMinRun, an entry of
	// L bytes ends its run with probability min(1, L/S).
	MemberCutScale = 64 << 10
	// MemberMaxRun bounds a run of whole entries; an entry of at least
	// this size is cut into pieces instead.
	MemberMaxRun = 256 << 10
	// MemberPieceSize is the size of each piece of a large entry but its
	// last; it bounds every member's uncompressed bytes.
	MemberPieceSize = 4 << 20
)

// maxChain bounds the extension headers (PAX, GNU long names) in front of
// one entry that the splitter holds.
const maxChain = 1 << 20

// splitter cuts a tar stream into the runs of docs/format-v2.md section 3
// as the stream passes: it follows the tar's block structure, and hands
// each finished run to emit, which owns the slice from then on. The last
// run it hands over is the end-of-archive tail.
type splitter struct {
	min, scale, max int64
	piece           int64
	emit            func(run []byte, kind MemberKind, segs []segment) error
	newBuf          func(size int64) []byte // an empty buffer of at least size bytes' capacity

	run      []byte // the run being gathered
	hdr      [512]byte
	hdrN     int
	chain    []byte // header blocks (and extension data) of the entry in progress
	extLeft  int64  // extension data and padding still to gather into chain
	extStart int    // where the extension data starts in chain
	extSize  int64
	extType  byte
	paxSize  int64 // size from a PAX record, or -1
	dataLeft int64 // data and padding of the entry in progress still to pass
	entryLen int64
	cutHash  uint64
	pieces   bool // the entry in progress is cut into pieces
	entries  int
	eoa      bool // the end-of-archive marker has begun

	// With a LayerMemo: the file contents within the run, as segments.
	segs        []segment
	holes       int64      // bytes of segments not in run (their src has them)
	next, cur   *announced // the next regular entry's content, announced; the entry in progress's
	contentLeft int64      // of cur's content
	contentOff  int64
	fh          hash.Hash // hashes cur's content, to learn its file's sum
}

// announced is what the flattener says of a regular entry's content
// before writing it: the file it is, and whether its bytes will come (or
// zeros stand in for them, src giving the bytes if the run needs them).
type announced struct {
	ref     *fileRef
	src     io.Reader
	virtual bool
}

func newSplitter(min, scale, max, piece int64, newBuf func(int64) []byte, emit func([]byte, MemberKind, []segment) error) *splitter {
	return &splitter{min: min, scale: scale, max: max, piece: piece, emit: emit, newBuf: newBuf, run: newBuf(max), paxSize: -1}
}

func (s *splitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		var k int
		var err error
		switch {
		case s.eoa:
			s.run = append(s.run, p...)
			k = len(p)
		case s.dataLeft > 0:
			k, err = s.data(p)
		case s.extLeft > 0:
			k = int(min(int64(len(p)), s.extLeft))
			s.chain = append(s.chain, p[:k]...)
			s.extLeft -= int64(k)
			if s.extLeft == 0 {
				err = s.extDone()
			}
		default:
			k = copy(s.hdr[s.hdrN:], p)
			s.hdrN += k
			if s.hdrN == len(s.hdr) {
				s.hdrN = 0
				err = s.header()
			}
		}
		if err != nil {
			return 0, err
		}
		p = p[k:]
	}
	return n, nil
}

// data passes entry data on into the run.
func (s *splitter) data(p []byte) (int, error) {
	k := int(min(int64(len(p)), s.dataLeft))
	q := p[:k]
	if s.contentLeft > 0 {
		c := int(min(int64(len(q)), s.contentLeft))
		if err := s.content(q[:c]); err != nil {
			return 0, err
		}
		q = q[c:]
	}
	if err := s.add(q); err != nil {
		return 0, err
	}
	s.dataLeft -= int64(k)
	if s.dataLeft == 0 {
		return k, s.entryDone()
	}
	return k, nil
}

// add appends bytes of the entry in progress to the run; an entry cut into
// pieces ends a piece whenever the run is full and more bytes follow.
func (s *splitter) add(p []byte) error {
	if !s.pieces {
		s.run = append(s.run, p...)
		return nil
	}
	for len(p) > 0 {
		if s.runLen() == s.piece {
			if err := s.cut(MemberPiece); err != nil {
				return err
			}
		}
		k := int(min(int64(len(p)), s.piece-s.runLen()))
		s.run = append(s.run, p[:k]...)
		p = p[k:]
	}
	return nil
}

// runLen is the run's size in the tar stream, holes included.
func (s *splitter) runLen() int64 { return int64(len(s.run)) + s.holes }

// announce says what the next regular entry's content is (see
// announced). Before real bytes are read, the holes of the run so far
// are filled: their bytes come from the same layers, read forward.
func (s *splitter) announce(ref *fileRef, src io.Reader, virtual bool) error {
	if !virtual && s.holes > 0 {
		run, segs, err := materialize(s.run, s.segs, s.runLen(), s.newBuf)
		if err != nil {
			return err
		}
		s.run, s.segs, s.holes = run, segs, 0
	}
	s.next = &announced{ref: ref, src: src, virtual: virtual}
	return nil
}

// content passes bytes of the announced entry's file into the run: as
// they are, or, when virtual, as a hole of their size.
func (s *splitter) content(p []byte) error {
	for len(p) > 0 {
		if s.pieces && s.runLen() == s.piece {
			if err := s.cut(MemberPiece); err != nil {
				return err
			}
		}
		k := len(p)
		if s.pieces {
			k = int(min(int64(k), s.piece-s.runLen()))
		}
		s.segment(p[:k])
		p = p[k:]
	}
	if s.contentLeft == 0 && s.fh != nil {
		s.cur.ref.sum, s.cur.ref.done = [32]byte(s.fh.Sum(nil)), true
		s.fh = nil
	}
	return nil
}

// segment adds b, bytes of cur's file, to the run, joining the segment
// before when it continues it: the description of a run must not depend
// on how the bytes were written.
func (s *splitter) segment(b []byte) {
	n := int64(len(b))
	seg := segment{pos: len(s.run), n: n, ref: s.cur.ref, from: s.contentOff}
	if s.cur.virtual {
		seg.src = s.cur.src
		s.holes += n
	} else {
		s.run = append(s.run, b...)
		s.fh.Write(b)
	}
	s.contentLeft -= n
	s.contentOff += n
	if k := len(s.segs) - 1; k >= 0 {
		last := &s.segs[k]
		present := int64(0)
		if last.src == nil {
			present = last.n
		}
		if last.ref == seg.ref && last.from+last.n == seg.from && (last.src == nil) == (seg.src == nil) &&
			int64(last.pos)+present == int64(seg.pos) {
			last.n += n
			return
		}
	}
	s.segs = append(s.segs, seg)
}

// header handles one 512-byte block where a header is due.
func (s *splitter) header() error {
	if s.hdr == [512]byte{} {
		if len(s.chain) > 0 {
			return errors.New("tar stream: end-of-archive marker after an extension header")
		}
		if err := s.cut(MemberRun); err != nil {
			return err
		}
		s.eoa = true
		s.run = append(s.run, s.hdr[:]...)
		return nil
	}
	if err := checkHeaderSum(&s.hdr); err != nil {
		return err
	}
	size, err := parseTarNumber(s.hdr[124:136])
	if err != nil {
		return fmt.Errorf("tar stream: size field: %w", err)
	}
	typ := s.hdr[156]
	s.chain = append(s.chain, s.hdr[:]...)
	if len(s.chain) > maxChain {
		return fmt.Errorf("tar stream: more than %d bytes of extension headers before one entry", maxChain)
	}
	switch typ {
	case 'x', 'g', 'L', 'K':
		s.extType, s.extStart, s.extSize = typ, len(s.chain), size
		s.extLeft = padded(size)
		if s.extLeft == 0 {
			return s.extDone()
		}
		return nil
	}
	if s.paxSize >= 0 {
		size = s.paxSize
	}
	switch typ {
	case '1', '2', '3', '4', '5', '6': // header-only types, as archive/tar reads them
		size = 0
	}
	s.entries++
	s.cur, s.next = s.next, nil
	if s.cur != nil {
		if typ != '0' || size != s.cur.ref.size {
			return fmt.Errorf("tar stream: entry of type %q and %d bytes where a file of %d bytes was announced", typ, size, s.cur.ref.size)
		}
		s.contentLeft, s.contentOff = size, 0
		if !s.cur.virtual {
			s.fh = sha256.New()
		}
	}
	s.entryLen = int64(len(s.chain)) + padded(size)
	sum := sha256.Sum256(s.chain)
	s.cutHash = binary.BigEndian.Uint64(sum[:8])
	switch {
	case s.entryLen >= s.max:
		if err := s.cut(MemberRun); err != nil {
			return err
		}
		s.pieces = true
		if int64(cap(s.run)) < min(s.piece, s.entryLen) {
			s.run = s.newBuf(min(s.piece, s.entryLen)) // the run is empty: the cut took it
		}
	case s.runLen()+s.entryLen > s.max:
		if err := s.cut(MemberRun); err != nil {
			return err
		}
	}
	if err := s.add(s.chain); err != nil {
		return err
	}
	s.chain, s.paxSize = s.chain[:0], -1
	s.dataLeft = padded(size)
	if s.cur != nil && size == 0 {
		if err := s.content(nil); err != nil {
			return err
		}
	}
	if s.dataLeft == 0 {
		return s.entryDone()
	}
	return nil
}

// extDone reads the size record of a finished PAX extended header.
func (s *splitter) extDone() error {
	if s.extType != 'x' {
		return nil
	}
	recs := s.chain[s.extStart : s.extStart+int(s.extSize)]
	for len(recs) > 0 {
		sp := bytes.IndexByte(recs, ' ')
		if sp < 0 {
			return errors.New("tar stream: malformed PAX record")
		}
		n, err := strconv.Atoi(string(recs[:sp]))
		if err != nil || n <= sp || n > len(recs) || recs[n-1] != '\n' {
			return errors.New("tar stream: malformed PAX record")
		}
		if k, v, ok := bytes.Cut(recs[sp+1:n-1], []byte{'='}); ok && string(k) == "size" {
			size, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || size < 0 {
				return fmt.Errorf("tar stream: PAX size %q", v)
			}
			s.paxSize = size
		}
		recs = recs[n:]
	}
	return nil
}

// entryDone ends the run after an entry when the rule says so.
func (s *splitter) entryDone() error {
	switch {
	case s.pieces:
		s.pieces = false
		return s.cut(MemberPiece)
	case s.entries == 2:
		return s.cut(MemberHead)
	case s.runLen() >= s.min && cutHit(s.cutHash, s.entryLen, s.scale):
		return s.cut(MemberRun)
	}
	return nil
}

// cutHit is the content-defined test: true with probability
// min(1, entryLen/scale) over the top 24 bits of the entry's hash.
func cutHit(h uint64, entryLen, scale int64) bool {
	return (h>>40)*uint64(scale) < uint64(entryLen)<<24
}

// cut hands the run gathered so far, if any, to emit.
func (s *splitter) cut(kind MemberKind) error {
	if s.runLen() == 0 {
		return nil
	}
	run, segs := s.run, s.segs
	next := s.max
	if s.pieces {
		next = s.piece // another piece of the entry follows
	}
	s.run, s.segs, s.holes = s.newBuf(next), nil, 0
	return s.emit(run, kind, segs)
}

// LayerEnd ends the run where one layer's entries give way to the next
// layer's (rule 0), which must be an entry boundary.
func (s *splitter) LayerEnd() error {
	if s.hdrN != 0 || s.dataLeft != 0 || s.extLeft != 0 || len(s.chain) != 0 || s.pieces || s.eoa {
		return errors.New("tar stream: a layer ends inside an entry")
	}
	return s.cut(MemberRun)
}

// finish hands over the tail. The stream must have ended with the
// end-of-archive marker.
func (s *splitter) finish() error {
	if !s.eoa || s.hdrN != 0 {
		return errors.New("tar stream: ended without its end-of-archive marker")
	}
	return s.cut(MemberTail)
}

func padded(n int64) int64 { return (n + 511) &^ 511 }

func checkHeaderSum(b *[512]byte) error {
	want, err := parseTarNumber(b[148:156])
	if err != nil {
		return fmt.Errorf("tar stream: header checksum field: %w", err)
	}
	var sum int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	if sum != want {
		return errors.New("tar stream: header checksum mismatch")
	}
	return nil
}

// parseTarNumber reads an octal field, or a base-256 one (GNU).
func parseTarNumber(b []byte) (int64, error) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		if b[0] != 0x80 || len(b) < 9 {
			return 0, errors.New("base-256 number out of range")
		}
		var n uint64
		for _, c := range b[1:] {
			if n>>56 != 0 {
				return 0, errors.New("base-256 number out of range")
			}
			n = n<<8 | uint64(c)
		}
		if n > 1<<62 {
			return 0, errors.New("base-256 number out of range")
		}
		return int64(n), nil
	}
	s := string(bytes.Trim(b, " \x00"))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("octal number %q", s)
	}
	return n, nil
}
