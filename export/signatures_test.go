package export_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
)

// signedSetup is newSetup's two images, the first signed by alice.
func signedSetup(t *testing.T) (*setup, *provenance.Key, *provenance.Key) {
	t.Helper()
	cosign := cosigntest.Binary(t)
	s := newSetup(t, 2)
	aliceKey, alicePub := cosigntest.KeyPair(t, cosign, s.dir, "alice")
	_, bobPub := cosigntest.KeyPair(t, cosign, s.dir, "bob")
	cosigntest.Sign(t, cosign, aliceKey, s.targets[0].Ref.Context().Digest(s.targets[0].Digest.String()).String())
	alice, err := provenance.LoadKey(alicePub)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := provenance.LoadKey(bobPub)
	if err != nil {
		t.Fatal(err)
	}
	return s, alice, bob
}

func policy(p provenance.Policy) func(source.Target) provenance.Policy {
	return func(source.Target) provenance.Policy { return p }
}

func TestSignatureFailureWritesNothing(t *testing.T) {
	s, alice, bob := signedSetup(t)
	for name, p := range map[string]provenance.Policy{
		"wrong key":      {Keys: []*provenance.Key{bob}},
		"unsigned image": {Keys: []*provenance.Key{alice}, Require: true},
	} {
		t.Run(name, func(t *testing.T) {
			var kinds []export.EventKind
			_, err := s.run(context.Background(), "b",
				export.WithSignatureCheck(provenance.New(), policy(p)),
				export.WithEvents(func(e export.Event) { kinds = append(kinds, e.Kind) }))
			var pe *provenance.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *provenance.Error", err)
			}
			for _, k := range kinds {
				if k == export.Started || k == export.Writing {
					t.Fatalf("export went on to %s after a refused signature", k)
				}
			}
			assertNoBundle(t, s.dir)
		})
	}
}

func TestSignaturesRecordedAndCarried(t *testing.T) {
	s, alice, _ := signedSetup(t)
	var warnings []string
	res, err := s.run(context.Background(), "b",
		export.WithSignatureCheck(provenance.New(), policy(provenance.Policy{Keys: []*provenance.Key{alice}})),
		export.WithCarrySignatures(true),
		export.WithEvents(func(e export.Event) {
			if e.Kind == export.Warned {
				warnings = append(warnings, e.Message)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], s.targets[1].Request.Ref) {
		t.Fatalf("warnings = %q, want one naming the unsigned image", warnings)
	}
	r, err := bundle.Open(res.Bundle.Files, s.trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	blobs := map[v1.Hash][]byte{}
	images := map[string]*manifest.Image{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := provenance.BlobDigest(e.Path); ok {
			b, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			blobs[h] = b
		}
		if e.Image != nil {
			images[e.Image.Source] = e.Image
		}
	}
	signed, unsigned := images[s.targets[0].Request.Ref], images[s.targets[1].Request.Ref]
	if sig := signed.Signature; sig == nil || sig.Status != provenance.Verified || !sig.Carried ||
		sig.SignedDigest != signed.Digest || len(sig.Keys) != 1 || sig.Keys[0] != alice.ID {
		t.Fatalf("signed image records %+v", signed.Signature)
	}
	if sig := unsigned.Signature; sig == nil || sig.Status != provenance.Unsigned || sig.Carried {
		t.Fatalf("unsigned image records %+v", unsigned.Signature)
	}
	// manifest, config, signature manifest and one payload
	if len(blobs) != 4 {
		t.Fatalf("bundle carries %d evidence blobs, want 4", len(blobs))
	}
	lookup := func(h v1.Hash) ([]byte, bool) { b, ok := blobs[h]; return b, ok }
	if _, err := provenance.CheckCarried(context.Background(), signed, lookup, provenance.Policy{Keys: []*provenance.Key{alice}}); err != nil {
		t.Fatal(err)
	}
}
