package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/reedsolomon"

	"github.com/airlockhq/airlock/internal/ctxio"
)

// newCoder returns the Reed-Solomon coder of docs/format.md section 11:
// GF(2^8), a systematic Cauchy matrix, applied byte by byte, so it can be
// run over the parts stripe by stripe.
func newCoder(data, parity int) (reedsolomon.Encoder, error) {
	enc, err := reedsolomon.New(data, parity, reedsolomon.WithCauchyMatrix())
	if err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	return enc, nil
}

// Encode reads the data parts ins (Pos 0 … len(ins)-1) side by side and
// writes and hashes the parity parts outs (Pos len(ins) …) in one pass.
// The inputs are not hashed.
func Encode(ctx context.Context, shard int64, ins []*In, outs []*Out) error {
	enc, err := newCoder(len(ins), len(outs))
	if err != nil {
		return err
	}
	return run(ctx, &pass{shard: shard, shards: len(ins) + len(outs), ins: ins, outs: outs, feed: true, code: enc.Encode})
}

// Rebuild computes the parts outs of a set of data and parity parts from
// the parts ins (exactly data of them, at their positions), reading those
// once without hashing them, and writes and hashes outs as they are
// written.
func Rebuild(ctx context.Context, shard int64, data, parity int, ins []*In, outs []*Out) error {
	dec, err := newCoder(data, parity)
	if err != nil {
		return err
	}
	required := make([]bool, data+parity)
	for _, out := range outs {
		required[out.Pos] = true
	}
	code := func(row [][]byte) error {
		for _, out := range outs {
			row[out.Pos] = row[out.Pos][:0] // missing: the decoder fills it in place
		}
		return dec.ReconstructSome(row, required)
	}
	return run(ctx, &pass{shard: shard, shards: data + parity, ins: ins, outs: outs, feed: true, code: code})
}

// Hash hashes the parts ins in one pass, each on a goroutine of its own
// (so on every core), setting their Sum.
func Hash(ctx context.Context, shard int64, ins []*In) error {
	return run(ctx, &pass{shard: shard, ins: ins, hash: true})
}

// HashFile returns the SHA-256 (hex) of the first size bytes of the file
// at path. One goroutine reads and hashes each block while it is still in
// the core's cache: with other work on the machine, that beats reading and
// hashing on two goroutines.
func HashFile(ctx context.Context, path string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("bundle part: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(ctxio.Reader(ctx, f), size), make([]byte, maxBlock))
	if err != nil {
		return "", fmt.Errorf("reading bundle part %s: %w", path, err)
	}
	if n != size {
		return "", fmt.Errorf("reading bundle part %s: %w", path, io.ErrUnexpectedEOF)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
