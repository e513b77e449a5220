package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/airlockhq/airlock/internal/ctxio"
	"github.com/airlockhq/airlock/internal/lazyfile"
	"github.com/airlockhq/airlock/manifest"
)

// HeadSlotUnit is the unit of a format 2 head slot: the signed head and
// HEAD.pad together take a multiple of it (docs/format-v2.md section 5).
const HeadSlotUnit = headSlot

// Stream writes a format 2 bundle whose payloads are appended as they
// become ready and whose signed head is written last, into a slot
// reserved at the start of the stream (docs/format-v2.md section 5), so
// that writing need not wait for the last payload to exist. Add appends
// payloads in the order given; Finish signs the head, fits the slot to it
// and commits. Nothing looks like a bundle before Finish succeeds: a
// failed Add or Finish, or Abort, removes every file.
type Stream struct {
	base    string
	o       options
	pw      *partWriter
	slot    int64 // bytes reserved for the head at the start
	cw      *ctxio.ProgressWriter
	bw      *bufio.Writer
	tw      *tar.Writer
	entries []manifest.Entry
	paths   map[string]bool
	buf     []byte
	done    bool

	// Reslotted is how the slot was fitted to the head when the estimate
	// was off: "" (it fitted), "shifted" (the file's start grew or shrank
	// in place, no payload byte moved) or "copied" (the stream was written
	// again with the right slot, the payload region copied byte for byte).
	Reslotted string
}

// NewStream starts the bundle base with a head slot of estimate bytes,
// rounded up to HeadSlotUnit. An estimate that turns out wrong costs time
// at Finish, never bytes: the slot is always the smallest that holds the
// head, so the same payloads give the same bundle whatever the estimate.
func NewStream(base string, estimate int64, opts ...Option) (*Stream, error) {
	o := makeOptions(opts)
	if err := CheckSplit(o.partSize, o.parity); err != nil {
		return nil, err
	}
	if err := CheckSplitName(base, o.partSize); err != nil {
		return nil, err
	}
	s := &Stream{base: base, o: o, paths: map[string]bool{}, buf: make([]byte, copyBufferSize)}
	if err := s.start(roundSlot(estimate)); err != nil {
		return nil, err
	}
	return s, nil
}

// roundSlot is the slot holding n bytes: a positive multiple of headSlot.
func roundSlot(n int64) int64 {
	return max(1, (n+headSlot-1)/headSlot) * headSlot
}

// start opens the part writer and writes a zero slot of size bytes.
func (s *Stream) start(size int64) error {
	pw, err := newPartWriter(BaseName(s.base), s.o.partSize)
	if err != nil {
		return err
	}
	if s.o.parity == 0 {
		keep := 0 // one file: the head's write at the end touches only its slot
		if s.o.partSize > 0 {
			keep = int((size + s.o.partSize - 1) / s.o.partSize) // rehashed after the head is written
		}
		pw.dropBehindFrom(keep)
	}
	if err := writeZeros(pw, size); err != nil {
		pw.Abort()
		return err
	}
	s.pw, s.slot = pw, size
	s.cw = &ctxio.ProgressWriter{W: pw}
	s.bw = bufio.NewWriterSize(s.cw, copyBufferSize)
	s.tw = tar.NewWriter(s.bw)
	return nil
}

func writeZeros(w io.Writer, n int64) error {
	zero := make([]byte, min(n, copyBufferSize))
	for n > 0 {
		k, err := w.Write(zero[:min(n, int64(len(zero)))])
		if err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// Add appends p to the bundle, hashing it first when p.SHA256 is empty,
// and re-hashing it as it is written: bytes that do not match the declared
// size and checksum fail the bundle (a *verify.Error naming p.Path).
func (s *Stream) Add(ctx context.Context, p Payload) error {
	if s.done {
		return errors.New("bundle stream is closed")
	}
	err := s.add(ctx, p)
	if err != nil {
		s.Abort()
	}
	return err
}

func (s *Stream) add(ctx context.Context, p Payload) error {
	if err := checkPayloadPath(p.Path); err != nil {
		return err
	}
	if s.paths[p.Path] {
		return fmt.Errorf("payload %s is given twice", p.Path)
	}
	if p.SHA256 == "" && p.Members == nil {
		size, sum, err := hashPayload(ctx, p)
		if err != nil {
			return err
		}
		p.Size, p.SHA256 = size, sum
	}
	sum, err := writePayload(ctx, s.tw, s.o, p, s.buf)
	if err != nil {
		return err
	}
	p.SHA256 = sum
	s.paths[p.Path] = true
	s.entries = append(s.entries, p.entry())
	return nil
}

// Abort removes every file of the stream; later calls do nothing.
func (s *Stream) Abort() {
	if !s.done {
		s.done = true
		s.pw.Abort()
	}
}

// Finish signs the head over the payloads added (opts add to those of
// NewStream: WithImages, WithHave, WithBase, WithFreshness), writes it
// into the slot, fitting the slot to it first, then the part index and
// parity of a split bundle, and commits every file.
func (s *Stream) Finish(ctx context.Context, priv ed25519.PrivateKey, opts ...Option) (*Result, error) {
	if s.done {
		return nil, errors.New("bundle stream is closed")
	}
	res, err := s.finish(ctx, priv, opts)
	if err != nil {
		s.Abort()
		return nil, err
	}
	s.done = true
	return res, nil
}

func (s *Stream) finish(ctx context.Context, priv ed25519.PrivateKey, opts []Option) (*Result, error) {
	for _, opt := range opts {
		opt(&s.o)
	}
	if err := s.tw.Close(); err != nil {
		return nil, err
	}
	if err := s.bw.Flush(); err != nil {
		return nil, err
	}
	h, err := signHead(s.base, priv, s.o, s.entries)
	if err != nil {
		return nil, err
	}
	rendered, err := renderHead(s.o, h)
	if err != nil {
		return nil, err
	}
	if err := s.fit(ctx, int64(len(rendered))); err != nil {
		return nil, err
	}
	if err := s.pw.writeAt(rendered, 0); err != nil {
		return nil, err
	}
	total := s.slot + s.cw.N
	if err := CheckParts(total, s.o.partSize, s.o.parity, false); err != nil {
		return nil, err
	}
	if s.o.partSize > 0 {
		for i := int64(0); i*s.o.partSize < s.slot; i++ {
			if err := s.pw.rehash(int(i), min(s.o.partSize, total-i*s.o.partSize)); err != nil {
				return nil, err
			}
		}
		if err := s.pw.finishSplit(ctx, priv, ID(h.sums), total, s.o.parity); err != nil {
			return nil, err
		}
	}
	ndata := s.pw.dataParts()
	files, err := s.pw.Commit(ctx)
	if err != nil {
		return nil, err
	}
	return &Result{Files: files[:ndata], Extra: files[ndata:], ID: ID(h.sums), Manifest: h.m, Digest: h.digest, Bytes: total, Reslotted: s.Reslotted}, nil
}

// renderHead is the head's bytes as they start the stream: SHA256SUMS,
// its signature, manifest.json and HEAD.pad's header, whose size makes
// the slot up to a multiple of headSlot. HEAD.pad's zeros follow in the
// slot; they are not part of the result.
func renderHead(o options, h *head) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct {
		name string
		data []byte
	}{{manifest.SumsName, h.sums}, {manifest.SigName, h.sig}, {manifest.ManifestName, h.mjson}} {
		if err := tw.WriteHeader(header(f.name, int64(len(f.data)), o.created)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	// Every size so far is padded to blocks and no name needs an extension
	// header, so the pad's header is one block and its size a whole number
	// of blocks.
	used := int64(b.Len()) + (blockSize-int64(b.Len())%blockSize)%blockSize + blockSize
	if err := tw.WriteHeader(header(manifest.HeadPadName, roundSlot(used)-used, o.created)); err != nil {
		return nil, err
	}
	if int64(b.Len()) != used {
		return nil, fmt.Errorf("bundle head is %d bytes, want %d", b.Len(), used)
	}
	return b.Bytes(), nil
}

// fit makes the slot the smallest that holds a head of n bytes: in place
// when the file system can shift the start of an unsplit bundle's file,
// else by writing the stream again with the right slot.
func (s *Stream) fit(ctx context.Context, n int64) error {
	want := roundSlot(n)
	if want == s.slot {
		return nil
	}
	if s.o.partSize == 0 && !s.o.noShift {
		if err := s.pw.shiftStart(want - s.slot); err == nil {
			s.slot, s.Reslotted = want, "shifted"
			return nil
		}
	}
	old, oldSlot, payload := s.pw, s.slot, s.cw.N
	if err := s.start(want); err != nil {
		return err
	}
	r := old.reader(oldSlot, payload)
	copied, err := io.CopyBuffer(s.pw, ctxio.Reader(ctx, r), s.buf)
	old.Abort()
	if err == nil && copied != payload {
		err = fmt.Errorf("bundle %s: copied %d of the %d payload bytes into the new head slot; the temporary files changed", s.base, copied, payload)
	}
	if err != nil {
		return err
	}
	s.cw.N = payload
	s.Reslotted = "copied"
	return nil
}

// writeAt writes b at offset off of the stream, into the files holding
// it, and syncs them.
func (w *partWriter) writeAt(b []byte, off int64) error {
	for len(b) > 0 {
		i, at := 0, off
		if w.partSize > 0 {
			i, at = int(off/w.partSize), off%w.partSize
		}
		n := int64(len(b))
		if w.partSize > 0 {
			n = min(n, w.partSize-at)
		}
		name := w.finalName(i + 1)
		f, err := os.OpenFile(w.files[i].Name(), os.O_WRONLY, 0)
		if err != nil {
			return &WriteError{Path: name, Err: err}
		}
		_, err = f.WriteAt(b[:n], at)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return &WriteError{Path: name, Err: err}
		}
		b, off = b[n:], off+n
	}
	return nil
}

// rehash hashes data part i (size bytes) again from its file, after a
// write into it.
func (w *partWriter) rehash(i int, size int64) error {
	f, err := os.Open(w.files[i].Name())
	if err != nil {
		return &WriteError{Path: w.finalName(i + 1), Err: err}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, size), make([]byte, copyBufferSize)); err != nil {
		return &WriteError{Path: w.finalName(i + 1), Err: err}
	}
	w.hashes[i] = h
	return nil
}

// reader reads n bytes of the stream written so far from offset off.
func (w *partWriter) reader(off, n int64) io.Reader {
	var rs []io.Reader
	for i, f := range w.files[:w.dataParts()] {
		start, size := int64(0), w.total
		if w.partSize > 0 {
			start, size = int64(i)*w.partSize, min(w.partSize, w.total-int64(i)*w.partSize)
		}
		lo, hi := max(off, start), min(off+n, start+size)
		if lo >= hi {
			continue
		}
		rs = append(rs, lazyfile.Section(f.Name(), lo-start, hi-lo))
	}
	return io.MultiReader(rs...)
}

var errShiftUnsupported = errors.New("cannot shift the start of this bundle in place")
