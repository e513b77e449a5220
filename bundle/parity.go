package bundle

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/klauspost/reedsolomon"
)

// newCoder returns the Reed-Solomon coder of docs/format.md section 11:
// GF(2^8), a systematic Cauchy matrix, applied byte by byte, so it can be
// run over the parts stripe by stripe (stripePass).
func newCoder(data, parity int) (reedsolomon.Encoder, error) {
	return reedsolomon.New(data, parity, reedsolomon.WithCauchyMatrix())
}

// finishSplit writes the parity parts and the signed part index of a split
// bundle into temporary files that join the commit.
func (w *partWriter) finishSplit(ctx context.Context, priv ed25519.PrivateKey, id string, streamSize int64, parity int) error {
	base := filepath.Base(w.base)
	if err := CheckIndexBase(base); err != nil {
		return err
	}
	nd := w.dataParts() // within the limits: Write checked CheckParts
	x := &Index{Bundle: id, Base: base, StreamSize: streamSize, PartSize: w.partSize}
	dataTemps := make([]string, nd)
	for i := range nd {
		size := min(w.partSize, streamSize-int64(i)*w.partSize)
		x.Data = append(x.Data, PartFile{Name: filepath.Base(PartPath(base, i+1)), SHA256: hex.EncodeToString(w.hashes[i].Sum(nil)), Size: size})
		dataTemps[i] = w.files[i].Name()
	}
	if parity > 0 {
		outs := make([]*stripeOut, parity)
		for k := range parity {
			f, err := w.addFile(ParityPath(w.base, k+1))
			if err != nil {
				return err
			}
			outs[k] = &stripeOut{f: f.File, name: ParityPath(w.base, k+1), size: x.ShardSize(), pos: nd + k}
		}
		if err := encodeParity(ctx, dataTemps, x, outs); err != nil {
			return err
		}
		for k, out := range outs {
			if err := w.files[nd+k].Finish(); err != nil {
				return &WriteError{Path: out.name, Err: err}
			}
			x.Parity = append(x.Parity, PartFile{Name: filepath.Base(out.name), SHA256: out.sum, Size: out.size})
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

// encodeParity reads the data part files side by side, each zero-padded
// to the shard size, and writes and hashes the parity parts outs in one
// pass.
func encodeParity(ctx context.Context, dataPaths []string, x *Index, outs []*stripeOut) error {
	enc, err := newCoder(len(dataPaths), len(outs))
	if err != nil {
		return fmt.Errorf("parity: %w", err)
	}
	ins := make([]*stripeIn, len(dataPaths))
	for i, p := range dataPaths {
		// Hashed as they were written: read them only for the coder.
		ins[i] = &stripeIn{path: p, size: x.Data[i].Size, pos: i, feed: true}
	}
	if err := stripePass(ctx, x.ShardSize(), len(dataPaths)+len(outs), ins, outs, enc.Encode); err != nil {
		return fmt.Errorf("writing parity parts: %w", err)
	}
	return nil
}
