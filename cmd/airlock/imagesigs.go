package main

import (
	"bytes"
	"context"
	"errors"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
)

func loadCosignKeys(paths []string) ([]*provenance.Key, error) {
	var ks []*provenance.Key
	for _, p := range paths {
		k, err := provenance.LoadKey(p)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// carriedEvidence collects the carried signature blobs while a bundle is verified.
type carriedEvidence struct {
	on    bool
	blobs map[v1.Hash]*bytes.Buffer
}

func newCarriedEvidence(on bool) *carriedEvidence {
	return &carriedEvidence{on: on, blobs: map[v1.Hash]*bytes.Buffer{}}
}

// copy keeps a carried blob whose name is its checksum; the bundle reader
// checks that checksum as the entry is read.
func (ev *carriedEvidence) copy(e *manifest.Entry) io.Writer {
	if !ev.on || e.Size > provenance.MaxBlobSize {
		return nil
	}
	h, ok := provenance.BlobDigest(e.Path)
	if !ok || h.Hex != e.SHA256 {
		return nil
	}
	b := &bytes.Buffer{}
	ev.blobs[h] = b
	return b
}

// check re-checks every image's carried signature; all failures are
// reported together.
func (ev *carriedEvidence) check(ctx context.Context, m *manifest.Manifest, ks []*provenance.Key) ([]imageSignature, error) {
	lookup := func(h v1.Hash) ([]byte, bool) {
		b, ok := ev.blobs[h]
		if !ok {
			return nil, false
		}
		return b.Bytes(), true
	}
	var out []imageSignature
	var errs []error
	for _, e := range m.Entries {
		if e.Image == nil {
			continue
		}
		rc, err := provenance.CheckCarried(ctx, e.Image, lookup, ks)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, imageSignature{Key: e.Image.Key, Source: e.Image.Source, SignedDigest: rc.SignedDigest, Keys: rc.Keys})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
