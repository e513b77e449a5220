package rootfs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerMemo lets the conversions of one export share the work on layers
// several of its images hold (a common base): the first conversion to
// read such a layer keeps its entry headers and the SHA-256 of each file
// it wrote; later ones walk the layer from those headers without
// decompressing it, and a run of entries whose member an earlier image
// made is copied by its run print (below) without the file bytes ever
// being read. The output bytes are the same with or without a memo.
//
// A run print is the SHA-256 of a run's description: its bytes other than
// file contents (headers, padding, metadata) and, for each stretch of a
// file's content, the file's SHA-256, size and the stretch's range. It
// names the run's bytes as well as their SHA-256 does, so the member
// compressed from a run with the same print is the member of this run.
//
// A memo also tells the member writer which runs are worth the SHA-256
// that finds their members in the MemberSource: those of layers another
// image of the export holds (shared, or named by AddStaged). A run of a
// layer no other image holds is compressed without that hash (it is not
// looked up in the source), and its Member reports no RawSHA256.
//
// Memory: the headers of the shared layers (a few hundred bytes an entry)
// and 64 bytes per run.
type LayerMemo struct {
	mu     sync.Mutex
	shared map[v1.Hash]bool
	staged map[v1.Hash]bool // layers of images staged without a conversion; see AddStaged
	layers map[v1.Hash]*layerIndex
	prints map[[32]byte][32]byte // run print → SHA-256 of the run's bytes

	// Counters, for tests and reports.
	Replayed  atomic.Int64 // layers walked from their index
	Printed   atomic.Int64 // runs whose member came by their print, unread
	Unprinted atomic.Int64 // runs of indexed layers read from the layer after all
}

// NewLayerMemo returns a memo that indexes the layers named in shared (those
// more than one image of the export holds; indexing others costs hashing
// for nothing); of the runs of an image's layers, only those of these
// layers are hashed for the MemberSource (see LayerMemo).
func NewLayerMemo(shared []v1.Hash) *LayerMemo {
	m := &LayerMemo{shared: map[v1.Hash]bool{}, staged: map[v1.Hash]bool{}, layers: map[v1.Hash]*layerIndex{},
		prints: map[[32]byte][32]byte{}}
	for _, d := range shared {
		m.shared[d] = true
	}
	return m
}

// AddStaged names layers of images whose members the MemberSource holds
// without a conversion (an export's images taken from its staging cache):
// the runs of these layers in the images converted are hashed, to find
// those members, though no conversion indexes the layers.
func (m *LayerMemo) AddStaged(layers []v1.Hash) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range layers {
		m.staged[d] = true
	}
}

// hashes reports whether the runs of layer d are worth their SHA-256:
// another image of the export holds d, so the source may hold their
// members.
func (m *LayerMemo) hashes(d v1.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shared[d] || m.staged[d]
}

// Shares reports whether another image of the export holds layer d (see
// AddStaged): an image holding it may find members of its runs in the
// MemberSource.
func (m *LayerMemo) Shares(d v1.Hash) bool { return m.hashes(d) }

// WithLayerMemo has Write share work on layers with the other conversions
// using m (see LayerMemo). It takes effect with WithMembers and
// WithMemberSource: a run known by its print is copied from the source.
func WithLayerMemo(m *LayerMemo) Option { return func(o *options) { o.memo = m } }

func (m *LayerMemo) index(d v1.Hash) (idx *layerIndex, build bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.layers[d], m.shared[d]
}

// publish makes the index of layer d, read to its end, usable by others;
// the entries' sums are not written again from here on.
func (m *LayerMemo) publish(d v1.Hash, idx *layerIndex) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.layers[d]; !ok {
		m.layers[d] = idx
	}
}

func (m *LayerMemo) raw(print [32]byte) ([32]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.prints[print]
	return raw, ok
}

func (m *LayerMemo) remember(print, raw [32]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prints[print] = raw
}

// layerIndex is what a layer read once tells the walker: every entry's
// header as read (before normalize), in order, with its file's SHA-256
// when a conversion wrote the file whole.
type layerIndex struct {
	entries []indexEntry
}

type indexEntry struct {
	hdr tar.Header
	ref *fileRef
}

// fileRef identifies a file's content within a run print: its size and,
// once done, its SHA-256. A reference in a published index is read-only.
type fileRef struct {
	size int64
	sum  [32]byte
	done bool
}

// layerCursor reads the entries of an indexed layer from the layer itself,
// forward, for the files a replay needs the bytes of after all (a run no
// earlier image made). It opens the layer on first use.
type layerCursor struct {
	layer v1.Layer
	index int
	ctx   context.Context
	rc    io.ReadCloser
	tr    *tar.Reader
	next  int // index of the entry tr.Next returns next

	unchecked bool // bytes were read that no recorded sum checks
}

func (c *layerCursor) open() error {
	rc, err := c.layer.Uncompressed()
	if err != nil {
		return err
	}
	c.rc, c.tr, c.next = rc, tar.NewReader(ctxio.Reader(c.ctx, rc)), 0
	return nil
}

// seek positions the cursor at the content of entry i, named name.
func (c *layerCursor) seek(i int, name string) (io.Reader, error) {
	if c.tr != nil && c.next > i {
		c.close() // asked for an earlier entry: read the layer again
	}
	if c.tr == nil {
		if err := c.open(); err != nil {
			return nil, err
		}
	}
	for {
		hdr, err := c.tr.Next()
		if err != nil {
			return nil, fmt.Errorf("reading entry %d (%s) again: %w", i, name, errEOF(err))
		}
		c.next++
		if c.next-1 == i {
			if hdr.Name != name {
				return nil, fmt.Errorf("entry %d is %q, it was %q when read before", i, hdr.Name, name)
			}
			return c.tr, nil
		}
	}
}

// finish reads what is left of the layer, so that its digest is checked,
// if the cursor read any of it.
func (c *layerCursor) finish() error {
	if c.rc == nil {
		return nil
	}
	_, err := io.Copy(io.Discard, c.rc)
	c.close()
	return err
}

func (c *layerCursor) close() {
	if c.rc != nil {
		c.rc.Close()
	}
	c.rc, c.tr = nil, nil
}

func errEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lazyContent is an indexed file's content, read from the layer only if
// asked for, and checked against the recorded SHA-256.
type lazyContent struct {
	cur  *layerCursor
	i    int
	name string
	size int64
	ref  *fileRef // the index's: its sum, when done, is what the bytes must hash to
	r    io.Reader
	h    hash.Hash
	left int64
}

func (l *lazyContent) Read(p []byte) (int, error) {
	if l.r == nil {
		r, err := l.cur.seek(l.i, l.name)
		if err != nil {
			return 0, layerError(l.cur.layer, l.cur.index, err)
		}
		l.r, l.left = r, l.size
		if l.ref.done {
			l.h = sha256.New()
		} else {
			l.cur.unchecked = true
		}
	}
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.h != nil {
		l.h.Write(p[:n])
		if l.left == 0 && [32]byte(l.h.Sum(nil)) != l.ref.sum {
			// No bytes with the error: io.ReadFull keeps an error only
			// when it comes short.
			return 0, layerError(l.cur.layer, l.cur.index, fmt.Errorf("entry %s: its bytes differ from when the layer was read before (a layer blob changed on disk during the export?): export again", l.name))
		}
	}
	if err == io.EOF && l.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if l.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// segment is a stretch of a file's content within a run: n bytes from
// offset from of the file ref. Its bytes are in the run at pos, or, when
// src is set, not yet read: src gives them, in order.
type segment struct {
	pos  int
	n    int64
	ref  *fileRef
	from int64
	src  io.Reader
}

// runPrint is a run's description hashed, waiting for the sums of its
// files (a file cut into pieces is done only after its last piece).
type runPrint struct {
	desc [32]byte
	refs []*fileRef
}

// printOf describes run (its bytes present, holes where segments have a
// src) by its segments.
func printOf(run []byte, segs []segment) *runPrint {
	h := sha256.New()
	var num [8]byte
	put := func(tag byte, v int64) {
		binary.BigEndian.PutUint64(num[:], uint64(v))
		h.Write([]byte{tag})
		h.Write(num[:])
	}
	p := &runPrint{}
	at := 0
	for _, s := range segs {
		put('L', int64(s.pos-at))
		h.Write(run[at:s.pos])
		put('C', int64(len(p.refs)))
		put('s', s.ref.size)
		put('f', s.from)
		put('n', s.n)
		p.refs = append(p.refs, s.ref)
		at = s.pos
		if s.src == nil {
			at += int(s.n)
		}
	}
	put('L', int64(len(run)-at))
	h.Write(run[at:])
	p.desc = [32]byte(h.Sum(nil))
	return p
}

// sum is the run's print, once every file of it is done.
func (p *runPrint) sum() ([32]byte, bool) {
	h := sha256.New()
	h.Write(p.desc[:])
	for _, r := range p.refs {
		if !r.done {
			return [32]byte{}, false
		}
		h.Write(r.sum[:])
	}
	return [32]byte(h.Sum(nil)), true
}

// materialize returns run with every hole filled from its segment's src,
// in a buffer from newBuf, and the segments as present.
func materialize(run []byte, segs []segment, size int64, newBuf func(int64) []byte) ([]byte, []segment, error) {
	out := newBuf(size)
	at := 0
	for i, s := range segs {
		out = append(out, run[at:s.pos]...)
		at = s.pos
		segs[i].pos = len(out)
		if s.src == nil {
			out = append(out, run[at:at+int(s.n)]...)
			at += int(s.n)
			continue
		}
		start := len(out)
		out = out[:start+int(s.n)]
		if _, err := io.ReadFull(s.src, out[start:]); err != nil {
			return nil, nil, err
		}
		segs[i].src = nil
	}
	return append(out, run[at:]...), segs, nil
}

// zeros stands in for the content of a file a replay does not read: the
// tar writer counts its bytes, the splitter keeps none of them.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
