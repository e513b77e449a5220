package provenance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/provenance"
)

// TestHostileAttestation: a legacy attestation, signed by the trusted key,
// whose predicate type the signed manifest could not record (not a URI,
// a terminal escape) is left out with a note instead of making the bundle
// unreadable; a well-formed one beside it is kept.
func TestHostileAttestation(t *testing.T) {
	cosignBin := cosigntest.Binary(t)
	reg := imagetest.Registry(t)
	key, alice := publisher(t, cosignBin)
	ref := imagetest.Push(t, reg+"/team/hostile:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/hostile", Body: "h"}}))
	cosigntest.Sign(t, cosignBin, key, ref)
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := cosign.LoadPrivateKey(raw, []byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := dsse.WrapSigner(sv, "application/vnd.in-toto+json")
	att := mutate.MediaType(empty.Image, "application/vnd.oci.image.manifest.v1+json")
	hex := strings.TrimPrefix(d.DigestStr(), "sha256:")
	for _, typ := range []string{"https://cyclonedx.org/bom", "not a uri\x1b[2J"} {
		quoted, _ := json.Marshal(typ)
		st := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":%s,"subject":[{"name":"x","digest":{"sha256":%q}}],"predicate":{}}`, quoted, hex)
		env, err := signer.SignMessage(bytes.NewReader([]byte(st)))
		if err != nil {
			t.Fatal(err)
		}
		if att, err = mutate.Append(att, mutate.Addendum{Layer: static.NewLayer(env, "application/vnd.dsse.envelope.v1+json"),
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": ""}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(d.Context().Tag("sha256-"+hex+".att"), att); err != nil {
		t.Fatal(err)
	}
	ev, err := provenance.New().Check(context.Background(), subject(t, ref, nil), provenance.Policy{Keys: []*provenance.Key{alice}, Attestations: true})
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Record
	if len(r.Attestations) != 1 || r.Attestations[0].PredicateType != "https://cyclonedx.org/bom" {
		t.Fatalf("attestations = %+v", r.Attestations)
	}
	if len(ev.Notes) != 1 || !strings.Contains(ev.Notes[0], "is not an absolute URI") {
		t.Fatalf("notes = %q", ev.Notes)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(r.Attestations[0].Bundle)
	if _, ok := ev.Blobs[h]; !ok {
		t.Fatal("the kept attestation is not carried")
	}
}

// TestMovedBundle: a valid sigstore bundle of one image, attached as a
// referrer to another image, does not sign the other image.
func TestMovedBundle(t *testing.T) {
	cosignBin := cosigntest.Binary(t)
	reg := cosigntest.ReferrersRegistry(t)
	key, alice := publisher(t, cosignBin)
	signed := imagetest.Push(t, reg+"/team/signed:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/a", Body: "a"}}))
	cosigntest.SignBundle(t, cosignBin, key, signed)
	other := imagetest.Push(t, reg+"/team/other:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/b", Body: "b"}}))
	sd, _ := name.NewDigest(signed)
	od, _ := name.NewDigest(other)
	idx, err := remote.Referrers(sd)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("referrers of %s: %v, %v", signed, im, err)
	}
	img, err := remote.Image(sd.Context().Digest(im.Manifests[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	// the same bundle layer, in a manifest whose subject is the other image
	desc, err := remote.Get(od)
	if err != nil {
		t.Fatal(err)
	}
	moved := mutate.Subject(mutate.Annotations(img, m.Annotations).(v1.Image), desc.Descriptor).(v1.Image)
	if err := remote.Write(od.Context().Tag("moved"), moved); err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteLayer(od.Context(), layers[0]); err != nil {
		t.Fatal(err)
	}
	if idx, err := remote.Referrers(od); err != nil {
		t.Fatal(err)
	} else if im, _ := idx.IndexManifest(); len(im.Manifests) != 1 {
		t.Fatalf("the moved bundle is not a referrer of %s: %+v", other, im)
	}
	_, err = provenance.New().Check(context.Background(), subject(t, other, nil), provenance.Policy{Keys: []*provenance.Key{alice}})
	if err == nil || !strings.Contains(err.Error(), "no signature verifies") {
		t.Fatalf("a bundle of %s verified for %s: %v", signed, other, err)
	}
	t.Log(err)
}

// publisher makes a cosign key pair and returns the private key file and
// the trusted public key.
func publisher(t *testing.T, cosign string) (string, *provenance.Key) {
	t.Helper()
	key, pub := cosigntest.KeyPair(t, cosign, t.TempDir(), "alice")
	k, err := provenance.LoadKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key, k
}
