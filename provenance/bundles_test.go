package provenance_test

import (
	"context"
	"errors"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
)

const (
	workflow = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	actions  = "https://token.actions.githubusercontent.com"
)

// TestBundles checks sigstore bundles made by the real cosign CLI: attached
// through the referrers API and through its tag fallback, key-based and
// certificate-based under a local CA, an SBOM attestation, and an image
// signed in both schemes by different publishers; each is re-checked from
// its carried evidence.
func TestBundles(t *testing.T) {
	cosign := cosigntest.Binary(t)
	refReg := cosigntest.ReferrersRegistry(t)
	tagReg := imagetest.Registry(t) // no referrers API: the tag fallback
	dir := t.TempDir()
	aliceKey, alicePub := cosigntest.KeyPair(t, cosign, dir, "alice")
	bobKey, bobPub := cosigntest.KeyPair(t, cosign, dir, "bob")
	carolKey, carolPub := cosigntest.KeyPair(t, cosign, dir, "carol")
	alice, _ := provenance.LoadKey(alicePub)
	bob, _ := provenance.LoadKey(bobPub)
	ca := cosigntest.NewCA(t, dir)
	carolCert := ca.Issue(t, "carol", carolPub, workflow, actions)
	root, err := provenance.LoadTrustedRoot(ca.TrustedRoot(t, cosign))
	if err != nil {
		t.Fatal(err)
	}
	sbom := filepath.Join(dir, "sbom.json")
	if err := os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	push := func(reg, label string) string {
		img := imagetest.Image(t, []imagetest.File{{Name: "etc/" + label, Body: label}})
		return imagetest.Push(t, reg+"/team/"+label+":1.0", img)
	}
	keyRef := push(refReg, "keyed")
	cosigntest.SignBundle(t, cosign, aliceKey, keyRef)
	cosigntest.Attest(t, cosign, aliceKey, "cyclonedx", sbom, keyRef, true)
	fallbackRef := push(tagReg, "fallback")
	cosigntest.SignBundle(t, cosign, aliceKey, fallbackRef)
	certRef := push(refReg, "keyless")
	cosigntest.SignBundleWithCertificate(t, cosign, carolKey, carolCert, ca.ChainPEM, certRef)
	legacyRef := push(refReg, "legacyatt")
	cosigntest.Sign(t, cosign, aliceKey, legacyRef)
	cosigntest.Attest(t, cosign, aliceKey, "cyclonedx", sbom, legacyRef, false)
	cosigntest.Attest(t, cosign, bobKey, "spdxjson", sbom, legacyRef, false)
	sigRefRef := push(refReg, "sigreferrer")
	cosigntest.SignReferrer(t, cosign, aliceKey, sigRefRef)
	bothRef := push(refReg, "both")
	cosigntest.Sign(t, cosign, aliceKey, bothRef)
	cosigntest.SignBundle(t, cosign, bobKey, bothRef)

	v := provenance.New()
	ctx := context.Background()
	good := []provenance.IdentityPolicy{{SubjectRegexp: `^https://github\.com/acme/`, Issuer: actions}}
	cases := []struct {
		name      string
		ref       string
		policy    provenance.Policy
		legacy    bool   // the legacy tag signature verified
		bundle    bool   // a sigstore bundle signature verified
		attested  string // the predicate type carried
		reason    string // part of the expected error
		identity  bool   // a certificate identity is recorded
		note      string // part of the one note expected
		recheckBy *provenance.Policy
	}{
		{name: "referrers/key", ref: keyRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}}, bundle: true},
		{name: "referrers/key/attestations", ref: keyRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}, Attestations: true}, bundle: true, attested: "https://cyclonedx.org/bom"},
		{name: "referrers/key/attestations/otherkey", ref: keyRef, policy: provenance.Policy{Keys: []*provenance.Key{bob, alice}, Attestations: true}, bundle: true, attested: "https://cyclonedx.org/bom"},
		{name: "referrers/wrongkey", ref: keyRef, policy: provenance.Policy{Keys: []*provenance.Key{bob}}, reason: "no signature verifies"},
		{name: "fallback/key", ref: fallbackRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}}, bundle: true},
		{name: "certificate/identity", ref: certRef, policy: provenance.Policy{Root: root, Identities: good}, bundle: true, identity: true},
		{name: "certificate/wrongidentity", ref: certRef, policy: provenance.Policy{Root: root, Identities: []provenance.IdentityPolicy{{SubjectRegexp: `^https://github\.com/evil/`, Issuer: actions}}}, reason: "no signature verifies"},
		{name: "certificate/wrongissuer", ref: certRef, policy: provenance.Policy{Root: root, Identities: []provenance.IdentityPolicy{{SubjectRegexp: `acme`, Issuer: "https://accounts.google.com"}}}, reason: "no signature verifies"},
		{name: "certificate/noroot", ref: certRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}}, reason: "no trusted root"},
		{name: "certificate/keydoesnotcount", ref: keyRef, policy: provenance.Policy{Root: root, Identities: good}, reason: "signed with a key"},
		{name: "referrers/legacy", ref: sigRefRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}, Require: true}, legacy: true},
		{name: "referrers/legacy/wrongkey", ref: sigRefRef, policy: provenance.Policy{Keys: []*provenance.Key{bob}}, reason: "signature referrer sha256:"},
		{name: "legacy/attestations", ref: legacyRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}, Attestations: true}, legacy: true, attested: "https://cyclonedx.org/bom", note: ".att does not verify and is left out"},
		{name: "both/legacy", ref: bothRef, policy: provenance.Policy{Keys: []*provenance.Key{alice}}, legacy: true},
		{name: "both/bundle", ref: bothRef, policy: provenance.Policy{Keys: []*provenance.Key{bob}}, bundle: true},
		{name: "both/either", ref: bothRef, policy: provenance.Policy{Keys: []*provenance.Key{alice, bob}}, legacy: true, bundle: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := subject(t, c.ref, nil)
			ev, err := v.Check(ctx, s, c.policy)
			agree(t, cosign, dir, root.Path, c.ref, c.policy, c.bundle, err == nil)
			if c.reason != "" {
				var pe *provenance.Error
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.reason) || pe.Image != s.Source {
					t.Fatalf("err = %v, want a *provenance.Error naming the image and %q", err, c.reason)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := ev.Record
			if r.Status != provenance.Verified || r.SignedDigest != s.Digest.String() ||
				(len(r.Signatures) > 0) != c.legacy || (r.SignatureManifest != "") != c.legacy || (len(r.Bundles) == 1) != c.bundle {
				t.Fatalf("record = %+v", r)
			}
			if c.identity != (len(r.Identities) == 1) || c.identity && (r.Identities[0] != manifest.Identity{Subject: workflow, Issuer: actions}) || c.identity != (len(r.Keys) == 0) {
				t.Fatalf("identities %v, keys %v", r.Identities, r.Keys)
			}
			if c.attested == "" && len(r.Attestations) > 0 || c.attested != "" && (len(r.Attestations) != 1 || r.Attestations[0].PredicateType != c.attested) {
				t.Fatalf("attestations = %+v, want %q", r.Attestations, c.attested)
			}
			if err := r.Check(); err != nil {
				t.Fatal(err)
			}
			if c.note == "" && len(ev.Notes) > 0 || c.note != "" && (len(ev.Notes) != 1 || !strings.Contains(ev.Notes[0], c.note)) {
				t.Fatalf("notes = %q, want one with %q", ev.Notes, c.note)
			}
			recheckBundles(t, s, ev, c.policy, c.attested)
		})
	}
}

// agree checks that the cosign CLI, asked to verify ref's sigstore bundle
// signatures under the same key or certificate policy, comes to the same
// verdict as airlock (cosign takes one key or one identity: policies with
// several are left out; with a key it still wants a trusted root, anyRoot).
func agree(t *testing.T, cosign, dir, anyRoot, ref string, p provenance.Policy, bundle, verified bool) {
	t.Helper()
	args := []string{"verify", "--new-bundle-format", "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry"}
	switch {
	case len(p.Keys) == 1 && p.Root == nil:
		args = append(args, "--key", p.Keys[0].Path, "--trusted-root", anyRoot)
	case len(p.Keys) == 0 && p.Root != nil && len(p.Identities) == 1:
		args = append(args, "--insecure-ignore-sct", "--trusted-root", p.Root.Path,
			"--certificate-identity-regexp", p.Identities[0].SubjectRegexp, "--certificate-oidc-issuer", p.Identities[0].Issuer)
	default:
		return
	}
	if verified && !bundle {
		return // airlock verified a legacy signature, which cosign --new-bundle-format does not read
	}
	ok, out := cosigntest.Accepts(t, cosign, dir, append(args, ref)...)
	if ok != verified {
		t.Fatalf("cosign %v: accepted %t, airlock %t\n%s", args, ok, verified, out)
	}
	t.Logf("cosign agrees: verified %t", ok)
}

// recheckBundles re-checks the evidence offline under p, then without p's
// identity (the recorded one must then match), with the trust changed, and
// with a carried bundle changed or missing.
func recheckBundles(t *testing.T, s provenance.Subject, ev *provenance.Evidence, p provenance.Policy, attested string) {
	t.Helper()
	ctx := context.Background()
	rec := ev.Record
	rec.Carried = true
	img := &manifest.Image{Source: s.Source, Digest: s.Digest.String(), Signature: &rec}
	lookup := func(m map[v1.Hash][]byte) func(v1.Hash) ([]byte, bool) {
		return func(h v1.Hash) ([]byte, bool) { b, ok := m[h]; return b, ok }
	}
	got, err := provenance.CheckCarried(ctx, img, lookup(ev.Blobs), p)
	if err != nil {
		t.Fatalf("carried evidence: %v", err)
	}
	if attested != "" && (len(got.Attestations) != 1 || got.Attestations[0] != attested) {
		t.Fatalf("rechecked attestations = %v", got.Attestations)
	}
	if p.Root != nil {
		recorded := p
		recorded.Identities = nil
		if _, err := provenance.CheckCarried(ctx, img, lookup(ev.Blobs), recorded); err != nil {
			t.Fatalf("with the recorded identity: %v", err)
		}
		other := p
		other.Identities = []provenance.IdentityPolicy{{SubjectRegexp: "^nobody$", Issuer: actions}}
		if _, err := provenance.CheckCarried(ctx, img, lookup(ev.Blobs), other); err == nil {
			t.Fatal("carried evidence verified with another identity")
		}
	} else {
		if _, err := provenance.CheckCarried(ctx, img, lookup(ev.Blobs), provenance.Policy{}); err == nil {
			t.Fatal("carried evidence verified with no key")
		}
	}
	for _, a := range rec.Attestations {
		if a.Format != provenance.FormatDSSE {
			continue
		}
		h, _ := v1.NewHash(a.Bundle)
		tampered := maps.Clone(ev.Blobs)
		tampered[h] = []byte(strings.Replace(string(ev.Blobs[h]), `"sig":"M`, `"sig":"N`, 1))
		if string(tampered[h]) == string(ev.Blobs[h]) {
			t.Fatalf("attestation %s: no signature to change in %s", h, ev.Blobs[h])
		}
		if _, err := provenance.CheckCarried(ctx, img, lookup(tampered), p); err == nil || !strings.Contains(err.Error(), "attestation") {
			t.Fatalf("a changed legacy attestation: err = %v", err)
		}
		delete(tampered, h)
		if _, err := provenance.CheckCarried(ctx, img, lookup(tampered), p); err == nil || !strings.Contains(err.Error(), "not carried") {
			t.Fatalf("a missing legacy attestation: err = %v", err)
		}
	}
	for _, m := range append(append([]string(nil), rec.Bundles...), bundleAttestations(rec)...) {
		h, _ := v1.NewHash(m)
		raw := ev.Blobs[h]
		desc, _ := v1.ParseManifest(strings.NewReader(string(raw)))
		layer := desc.Layers[0].Digest
		without, tampered := map[v1.Hash][]byte{}, map[v1.Hash][]byte{}
		for k, b := range ev.Blobs {
			tampered[k] = b
			if k != layer {
				without[k] = b
			}
		}
		_, err := provenance.CheckCarried(ctx, img, lookup(without), p)
		switch {
		case len(rec.Signatures) > 0: // the legacy signature still verifies
		case err == nil:
			t.Fatalf("bundle %s missing: verified", layer)
		case len(rec.Bundles)+len(rec.Attestations) == 1 && !strings.Contains(err.Error(), "not carried"):
			t.Fatalf("bundle %s missing: err = %v", layer, err)
		}
		tampered[layer] = []byte(strings.Replace(string(ev.Blobs[layer]), `"sig":"M`, `"sig":"N`, 1))
		if string(tampered[layer]) == string(ev.Blobs[layer]) {
			t.Fatalf("bundle %s: no signature to change in %s", layer, ev.Blobs[layer])
		}
		if _, err := provenance.CheckCarried(ctx, img, lookup(tampered), p); err == nil && len(rec.Signatures) == 0 {
			t.Fatalf("a changed bundle %s verified", layer)
		}
	}
}

func bundleAttestations(rec manifest.Signature) []string {
	var out []string
	for _, a := range rec.Attestations {
		if a.Format != provenance.FormatDSSE {
			out = append(out, a.Manifest)
		}
	}
	return out
}

// TestBundlesRefusingRegistry: a registry that answers the referrers API
// with 405 instead of 404 still has its referrers tag fallback read.
func TestBundlesRefusingRegistry(t *testing.T) {
	cosign := cosigntest.Binary(t)
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var refusing atomic.Bool // cosign itself needs the 404 to sign
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refusing.Load() && strings.Contains(r.URL.Path, "/referrers/") {
			http.Error(w, `{"errors":[{"code":"UNSUPPORTED","message":"no referrers API"}]}`, http.StatusMethodNotAllowed)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	key, alice := publisher(t, cosign)
	signed := imagetest.Push(t, host+"/team/refusing:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/refusing", Body: "x"}}))
	cosigntest.SignBundle(t, cosign, key, signed)
	plain := imagetest.Push(t, host+"/team/plain:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/plain", Body: "y"}}))
	refusing.Store(true)
	v := provenance.New()
	ev, err := v.Check(context.Background(), subject(t, signed, nil), provenance.Policy{Keys: []*provenance.Key{alice}, Require: true})
	if err != nil || len(ev.Record.Bundles) != 1 {
		t.Fatalf("signed through the tag fallback: %+v, %v", ev, err)
	}
	ev, err = v.Check(context.Background(), subject(t, plain, nil), provenance.Policy{Keys: []*provenance.Key{alice}})
	if err != nil || ev.Record.Status != provenance.Unsigned {
		t.Fatalf("unsigned: %+v, %v", ev, err)
	}
}

func TestLoadTrustedRoot(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.json"):                                                              "no such file",
		write("big.json", strings.Repeat(" ", 1<<20+1)):                                                 "larger than 1048576 bytes, not a trusted_root.json",
		write("pem.json", "-----BEGIN PUBLIC KEY-----\n"):                                               "want sigstore's trusted_root.json format",
		write("noca.json", `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`): "lists no certificate authority",
	} {
		_, err := provenance.LoadTrustedRoot(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want the path and %q", filepath.Base(path), err, want)
		}
	}
	if err := (provenance.IdentityPolicy{SubjectRegexp: "(", Issuer: "x"}).Check(); err == nil {
		t.Error("a regexp that does not compile passed")
	}
	if err := (provenance.IdentityPolicy{SubjectRegexp: "x"}).Check(); err == nil {
		t.Error("an identity without an issuer passed")
	}
}
