package main

import (
	"context"
	"io"

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

// carriedEvidence collects the carried signature blobs while a bundle is
// verified, when --image-signatures asks for a re-check (nil Carried: off).
type carriedEvidence struct{ c *provenance.Carried }

func newCarriedEvidence(on bool) *carriedEvidence {
	if !on {
		return &carriedEvidence{}
	}
	return &carriedEvidence{c: provenance.NewCarried()}
}

func (ev *carriedEvidence) copy(e *manifest.Entry) io.Writer {
	if ev.c == nil {
		return nil
	}
	return ev.c.Writer(e)
}

// check re-checks every image's carried signature (provenance.Carried.Check)
// and returns what verify prints.
func (ev *carriedEvidence) check(ctx context.Context, m *manifest.Manifest, ks []*provenance.Key) ([]imageSignature, error) {
	checks, err := ev.c.Check(ctx, m, ks)
	if err != nil {
		return nil, err
	}
	out := make([]imageSignature, len(checks))
	for i, c := range checks {
		out[i] = imageSignature{Key: c.Key, Source: c.Source, SignedDigest: c.SignedDigest, Keys: c.Keys}
	}
	return out, nil
}
