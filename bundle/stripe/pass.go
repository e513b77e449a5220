package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/airlockhq/airlock/internal/writeback"
	"github.com/klauspost/reedsolomon"
	"golang.org/x/sync/errgroup"
)

const (
	// Memory bounds the buffers of one pass, whatever the number of
	// parts: the block shrinks as parts are added.
	Memory = 64 << 20
	// depth is the number of blocks per file in flight: one being read
	// and hashed, one waiting, one being coded or written.
	depth = 3
	// maxBlock is the largest block read or written at a time.
	maxBlock = 1 << 20
)

// In is one part file a pass reads.
type In struct {
	Path string
	Size int64  // bytes read from the file; the shard is zeros beyond
	Pos  int    // its shard's position: data parts first, then parity
	Sum  string // SHA-256 (hex) of its Size bytes, after Hash
}

// Out is one part file a pass writes.
type Out struct {
	File *os.File
	Name string // for errors
	Size int64  // bytes of the shard written; the rest is cut
	Pos  int    // its shard's position: data parts first, then parity
	Sum  string // SHA-256 (hex) of the bytes written
}

// WriteError is a failure writing an output part.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return "writing " + e.Path + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// pass reads the files of ins side by side, block by block, each
// zero-padded to shard bytes, in three kinds of stages joined by channels
// of reused blocks: a reader per input (read, and hash with hash set),
// a writer per output (write and hash), and one coder that hands each
// stripe's blocks (inputs with feed set, outputs) to code as shards[Pos]
// of one length. Memory stays within Memory.
type pass struct {
	shard, block int64
	shards       int
	ins          []*In
	outs         []*Out
	hash, feed   bool
	code         func([][]byte) error

	g   *errgroup.Group
	ctx context.Context
	// free blocks of each file, and blocks ready for the next stage
	inFree, inReady, outFree, outReady []chan []byte
}

// run is one pass; see pass.
func run(ctx context.Context, p *pass) error {
	files := len(p.ins) + len(p.outs)
	p.block = int64(max(64<<10, min(maxBlock, Memory/(files*depth)))) &^ 63
	p.g, p.ctx = errgroup.WithContext(ctx)
	p.inFree, p.inReady = p.channels(len(p.ins))
	p.outFree, p.outReady = p.channels(len(p.outs))
	for k := range p.ins {
		p.g.Go(func() error { return p.read(k) })
	}
	for j := range p.outs {
		p.g.Go(func() error { return p.write(j) })
	}
	if p.feed || len(p.outs) > 0 {
		p.g.Go(p.coder)
	}
	return p.g.Wait()
}

// channels makes, for n files, a channel of depth free blocks each and
// a channel for the blocks ready.
func (p *pass) channels(n int) (free, ready []chan []byte) {
	free, ready = make([]chan []byte, n), make([]chan []byte, n)
	for i := range n {
		free[i], ready[i] = make(chan []byte, depth), make(chan []byte, depth)
		for _, b := range reedsolomon.AllocAligned(depth, int(p.block)) {
			free[i] <- b
		}
	}
	return free, ready
}

func (p *pass) send(ch chan<- []byte, b []byte) error {
	select {
	case ch <- b:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

func (p *pass) recv(ch <-chan []byte) ([]byte, bool, error) {
	select {
	case b, ok := <-ch:
		return b, ok, nil
	case <-p.ctx.Done():
		return nil, false, p.ctx.Err()
	}
}

// read is the stage of input k: read each block, zero-pad it, hash it
// while it is still in this core's cache, then pass it on to the coder
// (feed) or reuse it.
func (p *pass) read(k int) error {
	in := p.ins[k]
	defer close(p.inReady[k])
	f, err := os.Open(in.Path)
	if err != nil {
		return fmt.Errorf("bundle part: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	next := p.inFree[k]
	if p.feed {
		next = p.inReady[k]
	}
	for off := int64(0); off < p.shard; off += p.block {
		b, _, err := p.recv(p.inFree[k])
		if err != nil {
			return err
		}
		b = b[:min(p.block, p.shard-off)]
		m := max(0, min(int64(len(b)), in.Size-off))
		if _, err := io.ReadFull(f, b[:m]); err != nil {
			return fmt.Errorf("reading bundle part %s: %w", in.Path, err)
		}
		clear(b[m:])
		if p.hash {
			h.Write(b[:m])
		}
		if err := p.send(next, b); err != nil {
			return err
		}
	}
	if p.hash {
		in.Sum = hex.EncodeToString(h.Sum(nil))
	}
	return nil
}

// write is the stage of output j: write and hash each block the coder
// filled, cut to the output's size, and hand the written bytes to the
// kernel every writeback.Step.
func (p *pass) write(j int) error {
	out := p.outs[j]
	h := sha256.New()
	wb := writeback.New(out.File)
	var off int64
	for {
		b, ok, err := p.recv(p.outReady[j])
		if err != nil {
			return err
		}
		if !ok {
			out.Sum = hex.EncodeToString(h.Sum(nil))
			return nil
		}
		keep := b[:max(0, min(int64(len(b)), out.Size-off))]
		if _, err := out.File.Write(keep); err != nil {
			return &WriteError{Path: out.Name, Err: err}
		}
		h.Write(keep)
		off += int64(len(keep))
		wb.Wrote(len(keep))
		if err := p.send(p.outFree[j], b[:cap(b)]); err != nil {
			return err
		}
	}
}

// coder is the stage that codes stripe by stripe: gather the inputs'
// blocks and a free block per output into one row, code it, pass the
// output blocks to their writers and give the input blocks back.
func (p *pass) coder() error {
	for _, ch := range p.outReady {
		defer close(ch)
	}
	row := make([][]byte, p.shards)
	outBufs := make([][]byte, len(p.outs))
	for off := int64(0); off < p.shard; off += p.block {
		n := min(p.block, p.shard-off)
		if err := p.gather(row, outBufs, n); err != nil {
			return err
		}
		if err := p.code(row); err != nil {
			return err
		}
		if err := p.handOut(row, outBufs, n); err != nil {
			return err
		}
	}
	return nil
}

// gather fills row with the next block of every input fed to the coder
// and a free block of n bytes for every output.
func (p *pass) gather(row, outBufs [][]byte, n int64) error {
	if p.feed {
		for k, in := range p.ins {
			b, ok, err := p.recv(p.inReady[k])
			if err != nil {
				return err
			}
			if !ok { // the reader failed; its error wins
				<-p.ctx.Done()
				return p.ctx.Err()
			}
			row[in.Pos] = b
		}
	}
	for j, out := range p.outs {
		b, _, err := p.recv(p.outFree[j])
		if err != nil {
			return err
		}
		outBufs[j] = b
		row[out.Pos] = b[:n]
	}
	return nil
}

// handOut passes each output's coded block to its writer and returns the
// input blocks to their readers.
func (p *pass) handOut(row, outBufs [][]byte, n int64) error {
	for j, out := range p.outs {
		if len(row[out.Pos]) != int(n) {
			return fmt.Errorf("parity: coder returned %d bytes for %s, want %d", len(row[out.Pos]), out.Name, n)
		}
		copyIfMoved(outBufs[j][:n], row[out.Pos])
		if err := p.send(p.outReady[j], outBufs[j][:n]); err != nil {
			return err
		}
	}
	if p.feed {
		for k, in := range p.ins {
			if err := p.send(p.inFree[k], row[in.Pos][:cap(row[in.Pos])]); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyIfMoved copies src into dst unless src is dst (the coder wrote into
// the buffer it was given, as it does when the buffer is large enough).
func copyIfMoved(dst, src []byte) {
	if len(dst) > 0 && &dst[0] != &src[0] {
		copy(dst, src)
	}
}
