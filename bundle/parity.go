package bundle

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/reedsolomon"

	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/internal/ctxio"
)

// parityMemory bounds the stripe buffers of the Reed-Solomon stream coder:
// one block per data and parity part is held at a time.
const parityMemory = 64 << 20

// newCoder returns the Reed-Solomon stream coder of docs/format.md section
// 11: GF(2^8), a systematic Cauchy matrix, applied byte by byte, so the
// block size only sets how much is held in memory.
func newCoder(data, parity int) (reedsolomon.StreamEncoder, error) {
	block := parityMemory / (data + parity)
	block = max(64<<10, min(4<<20, block)) &^ 63
	// Concurrent reads: the inputs Repair hashes are hashed on every core.
	return reedsolomon.NewStream(data, parity, reedsolomon.WithCauchyMatrix(), reedsolomon.WithStreamBlockSize(block),
		reedsolomon.WithConcurrentStreamReads(true))
}

// finishSplit writes the parity parts and the signed part index of a split
// bundle into temporary files that join the commit.
func (w *partWriter) finishSplit(ctx context.Context, priv ed25519.PrivateKey, id string, streamSize int64, parity int) error {
	base := filepath.Base(w.base)
	if err := CheckIndexBase(base); err != nil {
		return err
	}
	nd := w.dataParts()
	if parity > 0 && nd+parity > maxShards {
		return fmt.Errorf("%d data parts and %d parity parts: Reed-Solomon parity covers at most %d parts in all; choose a larger part size", nd, parity, maxShards)
	}
	x := &Index{Bundle: id, Base: base, StreamSize: streamSize, PartSize: w.partSize}
	dataTemps := make([]string, nd)
	for i := range nd {
		x.Data = append(x.Data, PartFile{Name: filepath.Base(PartPath(base, i+1)), SHA256: hex.EncodeToString(w.hashes[i].Sum(nil))})
		dataTemps[i] = w.files[i].Name()
	}
	if parity > 0 {
		files := make([]*atomicfile.File, parity)
		hashes := make([]hash.Hash, parity)
		outs := make([]io.Writer, parity)
		for k := range parity {
			f, err := w.addFile(ParityPath(w.base, k+1))
			if err != nil {
				return err
			}
			files[k], hashes[k] = f, sha256.New()
			outs[k] = io.MultiWriter(f, hashes[k])
		}
		if err := encodeParity(ctx, dataTemps, x.ShardSize(), outs); err != nil {
			return err
		}
		for k, f := range files {
			if err := f.Finish(); err != nil {
				return &WriteError{Path: ParityPath(w.base, k+1), Err: err}
			}
			x.Parity = append(x.Parity, PartFile{Name: filepath.Base(ParityPath(base, k+1)), SHA256: hex.EncodeToString(hashes[k].Sum(nil))})
		}
	}
	data, sig := signIndex(x, priv)
	for _, out := range []struct {
		name string
		data []byte
	}{{IndexPath(w.base), data}, {IndexSigPath(w.base), sig}} {
		f, err := w.addFile(out.name)
		if err != nil {
			return err
		}
		if _, err := f.Write(out.data); err != nil {
			return &WriteError{Path: out.name, Err: err}
		}
		if err := f.Finish(); err != nil {
			return &WriteError{Path: out.name, Err: err}
		}
	}
	return nil
}

// encodeParity reads the data part files side by side, each zero-padded to
// shardSize, and writes one parity stream per writer.
func encodeParity(ctx context.Context, dataPaths []string, shardSize int64, outs []io.Writer) error {
	enc, err := newCoder(len(dataPaths), len(outs))
	if err != nil {
		return fmt.Errorf("parity: %w", err)
	}
	ins := make([]io.Reader, len(dataPaths))
	for i, p := range dataPaths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("parity: %w", err)
		}
		defer f.Close()
		ins[i] = padded(ctx, f, shardSize)
	}
	if err := enc.Encode(ins, outs); err != nil {
		return fmt.Errorf("writing parity parts: %w", err)
	}
	return nil
}

// padded reads r and then zeros, size bytes in all.
func padded(ctx context.Context, r io.Reader, size int64) io.Reader {
	return io.LimitReader(io.MultiReader(ctxio.Reader(ctx, r), zeros{}), size)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// truncWriter passes on the first n bytes and drops the rest: a rebuilt
// last data part is its shard without the zero padding.
type truncWriter struct {
	w io.Writer
	n int64
}

func (t *truncWriter) Write(p []byte) (int, error) {
	keep := p[:min(int64(len(p)), max(t.n, 0))]
	if len(keep) > 0 {
		if _, err := t.w.Write(keep); err != nil {
			return 0, err
		}
		t.n -= int64(len(keep))
	}
	return len(p), nil
}
