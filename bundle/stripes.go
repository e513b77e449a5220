package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/reedsolomon"
	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/internal/ctxio"
)

const (
	// stripeMemory bounds the buffers of one stripe pass, whatever the
	// number of parts: the block shrinks as parts are added.
	stripeMemory = 64 << 20
	// stripeDepth is the number of blocks per file in flight: one being
	// read and hashed, one waiting, one being coded or written.
	stripeDepth = 3
	// writebackStep is how often a written part's new bytes are handed to
	// the kernel for writing out, so that its final fsync finds little left.
	writebackStep = 8 << 20
)

// stripeIn is one part file read by a stripe pass.
type stripeIn struct {
	path string
	size int64 // bytes read from the file; the shard is zeros beyond
	pos  int   // position of its blocks among the shards given to code
	hash bool  // compute sum while reading
	feed bool  // hand its blocks to code
	sum  string
}

// stripeOut is one part file a stripe pass writes.
type stripeOut struct {
	f    *os.File
	name string // for errors
	size int64  // bytes of the shard written; the rest is cut
	pos  int
	sum  string // of the bytes written
}

// stripePass reads the files of ins side by side, block by block, each
// zero-padded to shard bytes. Every file is read and hashed on a goroutine
// of its own, so several files are hashed on every core at once. The
// blocks of the inputs marked feed, and a block for each output, are
// handed to code as shards[pos] (all of one length); the output blocks
// code fills are then written and hashed on their own goroutines while the
// next stripe is read. Memory stays within stripeMemory. With no outs and
// no feed, it only hashes.
func stripePass(ctx context.Context, shard int64, shards int, ins []*stripeIn, outs []*stripeOut, code func([][]byte) error) error {
	files := len(ins) + len(outs)
	block := int64(max(64<<10, min(copyBufferSize, stripeMemory/(files*stripeDepth)))) &^ 63
	g, gctx := errgroup.WithContext(ctx)
	send := func(ch chan<- []byte, b []byte) error {
		select {
		case ch <- b:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	recv := func(ch <-chan []byte) ([]byte, bool, error) {
		select {
		case b, ok := <-ch:
			return b, ok, nil
		case <-gctx.Done():
			return nil, false, gctx.Err()
		}
	}
	newFree := func() chan []byte {
		free := make(chan []byte, stripeDepth)
		for _, b := range reedsolomon.AllocAligned(stripeDepth, int(block)) {
			free <- b
		}
		return free
	}
	feeding := false
	inFree := make([]chan []byte, len(ins))
	inReady := make([]chan []byte, len(ins))
	for k, in := range ins {
		inFree[k], inReady[k] = newFree(), make(chan []byte, stripeDepth)
		feeding = feeding || in.feed
		g.Go(func() error { // read and hash, then pass on or reuse
			defer close(inReady[k])
			f, err := os.Open(in.path)
			if err != nil {
				return fmt.Errorf("bundle part: %w", err)
			}
			defer f.Close()
			h := sha256.New()
			for off := int64(0); off < shard; off += block {
				b, _, err := recv(inFree[k])
				if err != nil {
					return err
				}
				b = b[:min(block, shard-off)]
				m := max(0, min(int64(len(b)), in.size-off))
				if _, err := io.ReadFull(f, b[:m]); err != nil {
					return fmt.Errorf("reading bundle part %s: %w", in.path, err)
				}
				clear(b[m:])
				if in.hash {
					h.Write(b[:m]) // while the block is still in this core's cache
				}
				next := inFree[k]
				if in.feed {
					next = inReady[k]
				}
				if err := send(next, b); err != nil {
					return err
				}
			}
			if in.hash {
				in.sum = hex.EncodeToString(h.Sum(nil))
			}
			return nil
		})
	}
	outFree := make([]chan []byte, len(outs))
	outReady := make([]chan []byte, len(outs))
	for j, out := range outs {
		outFree[j], outReady[j] = newFree(), make(chan []byte, stripeDepth)
		g.Go(func() error { // write and hash
			h := sha256.New()
			var off, kicked int64
			for {
				b, ok, err := recv(outReady[j])
				if err != nil {
					return err
				}
				if !ok {
					out.sum = hex.EncodeToString(h.Sum(nil))
					return nil
				}
				keep := b[:max(0, min(int64(len(b)), out.size-off))]
				if _, err := out.f.Write(keep); err != nil {
					return &WriteError{Path: out.name, Err: err}
				}
				h.Write(keep)
				off += int64(len(keep))
				if off-kicked >= writebackStep {
					startWriteback(out.f, kicked, off-kicked)
					kicked = off
				}
				if err := send(outFree[j], b[:cap(b)]); err != nil {
					return err
				}
			}
		})
	}
	if feeding || len(outs) > 0 {
		g.Go(func() error { // code, stripe by stripe
			for _, ch := range outReady {
				defer close(ch)
			}
			row := make([][]byte, shards)
			for off := int64(0); off < shard; off += block {
				n := min(block, shard-off)
				for k, in := range ins {
					if !in.feed {
						continue
					}
					b, ok, err := recv(inReady[k])
					if err != nil {
						return err
					}
					if !ok { // the reader failed; its error wins
						<-gctx.Done()
						return gctx.Err()
					}
					row[in.pos] = b
				}
				outBufs := make([][]byte, len(outs))
				for j, out := range outs {
					b, _, err := recv(outFree[j])
					if err != nil {
						return err
					}
					outBufs[j] = b
					row[out.pos] = b[:n]
				}
				if err := code(row); err != nil {
					return err
				}
				for j, out := range outs {
					if len(row[out.pos]) != int(n) {
						return fmt.Errorf("parity: coder returned %d bytes for %s, want %d", len(row[out.pos]), out.name, n)
					}
					copyIfMoved(outBufs[j][:n], row[out.pos])
					if err := send(outReady[j], outBufs[j][:n]); err != nil {
						return err
					}
				}
				for k, in := range ins {
					if in.feed {
						if err := send(inFree[k], row[in.pos][:cap(row[in.pos])]); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// copyIfMoved copies src into dst unless src is dst (the coder wrote into
// the buffer it was given, as it does when the buffer is large enough).
func copyIfMoved(dst, src []byte) {
	if len(dst) > 0 && &dst[0] != &src[0] {
		copy(dst, src)
	}
}

// hashFile returns the SHA-256 (hex) of the first size bytes of the file
// at path. One goroutine reads and hashes each block while it is still in
// the core's cache: with other work on the machine, that beats reading and
// hashing on two goroutines.
func hashFile(ctx context.Context, path string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("bundle part: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(ctxio.Reader(ctx, f), size), make([]byte, copyBufferSize))
	if err != nil {
		return "", fmt.Errorf("reading bundle part %s: %w", path, err)
	}
	if n != size {
		return "", fmt.Errorf("reading bundle part %s: %w", path, io.ErrUnexpectedEOF)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
