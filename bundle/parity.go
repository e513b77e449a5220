package bundle

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/airlockhq/airlock/bundle/stripe"
)

// finishSplit writes the parity parts and the signed part index of a split
// bundle into temporary files that join the commit.
func (w *partWriter) finishSplit(ctx context.Context, priv ed25519.PrivateKey, id string, streamSize int64, parity int) error {
	base := filepath.Base(w.base) // a name the index can list: Write checked CheckSplitName
	nd := w.dataParts()           // within the limits: Write checked CheckParts
	x := &Index{Bundle: id, Base: base, StreamSize: streamSize, PartSize: w.partSize}
	dataTemps := make([]string, nd)
	for i := range nd {
		size := min(w.partSize, streamSize-int64(i)*w.partSize)
		x.Data = append(x.Data, PartFile{Name: filepath.Base(PartPath(base, i+1)), SHA256: hex.EncodeToString(w.hashes[i].Sum(nil)), Size: size})
		dataTemps[i] = w.files[i].Name()
	}
	if parity > 0 {
		outs := make([]*stripe.Out, parity)
		for k := range parity {
			f, err := w.addFile(ParityPath(w.base, k+1))
			if err != nil {
				return err
			}
			outs[k] = &stripe.Out{File: f.File, Name: ParityPath(w.base, k+1), Size: x.ShardSize(), Pos: nd + k}
		}
		if err := encodeParity(ctx, dataTemps, x, outs); err != nil {
			return err
		}
		for k, out := range outs {
			if err := w.files[nd+k].Finish(); err != nil {
				return &WriteError{Path: out.Name, Err: err}
			}
			x.Parity = append(x.Parity, PartFile{Name: filepath.Base(out.Name), SHA256: out.Sum, Size: out.Size})
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
// pass. The data parts were hashed as they were written: they are read
// only for the coder.
func encodeParity(ctx context.Context, dataPaths []string, x *Index, outs []*stripe.Out) error {
	ins := make([]*stripe.In, len(dataPaths))
	for i, p := range dataPaths {
		ins[i] = &stripe.In{Path: p, Size: x.Data[i].Size, Pos: i}
	}
	if err := stripe.Encode(ctx, x.ShardSize(), ins, outs); err != nil {
		return fmt.Errorf("writing parity parts: %w", bundleWriteError(err))
	}
	return nil
}

// bundleWriteError makes a failure to write a part a *WriteError.
func bundleWriteError(err error) error {
	var we *stripe.WriteError
	if errors.As(err, &we) {
		return &WriteError{Path: we.Path, Err: we.Err}
	}
	return err
}
