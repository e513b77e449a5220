package provenance_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/airlockhq/airlock/internal/cosigntest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
)

// fixture is a registry with images signed by two publishers, signed once
// for all cases (cosign takes about a second per signature).
type fixture struct {
	alice, bob *provenance.Key
	subjects   map[string]provenance.Subject
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cosign := cosigntest.Binary(t)
	reg := imagetest.Registry(t)
	dir := t.TempDir()
	aliceKey, alicePub := cosigntest.KeyPair(t, cosign, dir, "alice")
	bobKey, bobPub := cosigntest.KeyPair(t, cosign, dir, "bob")
	f := &fixture{subjects: map[string]provenance.Subject{}}
	var err error
	if f.alice, err = provenance.LoadKey(alicePub); err != nil {
		t.Fatal(err)
	}
	if f.bob, err = provenance.LoadKey(bobPub); err != nil {
		t.Fatal(err)
	}
	single := func(label string, key string) string {
		img := imagetest.Image(t, []imagetest.File{{Name: "etc/" + label, Body: label}})
		ref := imagetest.Push(t, reg+"/team/"+label+":1.0", img)
		if key != "" {
			cosigntest.Sign(t, cosign, key, ref)
		}
		f.subjects[label] = subject(t, ref, nil)
		return ref
	}
	single("alice", aliceKey)
	single("bob", bobKey)
	single("unsigned", "")
	cosigntest.TamperPayload(t, single("tampered", aliceKey))

	multi := func(label string) (idxRef, amd64Ref string) {
		idx := imagetest.Index(t, map[string]v1.Image{
			"linux/amd64": imagetest.Image(t, []imagetest.File{{Name: "arch", Body: label + " amd64"}}),
			"linux/arm64": imagetest.Image(t, []imagetest.File{{Name: "arch", Body: label + " arm64"}}),
		})
		idxRef = imagetest.PushIndex(t, reg+"/library/"+label+":2.0", idx)
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range im.Manifests {
			if m.Platform.Architecture == "amd64" {
				amd64Ref = strings.Split(idxRef, "@")[0] + "@" + m.Digest.String()
			}
		}
		f.subjects[label] = subject(t, amd64Ref, &idxRef)
		return idxRef, amd64Ref
	}
	idxRef, _ := multi("signedindex")
	cosigntest.Sign(t, cosign, aliceKey, idxRef)
	_, platRef := multi("signedplatform")
	cosigntest.Sign(t, cosign, aliceKey, platRef)
	return f
}

// subject describes the image at ref, resolved through the index at
// indexRef when given.
func subject(t *testing.T, ref string, indexRef *string) provenance.Subject {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(d)
	if err != nil {
		t.Fatal(err)
	}
	s := provenance.Subject{Source: ref, Repo: d.Context(), Digest: v1.Hash{}, Image: img}
	if s.Digest, err = v1.NewHash(d.DigestStr()); err != nil {
		t.Fatal(err)
	}
	if indexRef != nil {
		id, err := name.NewDigest(*indexRef)
		if err != nil {
			t.Fatal(err)
		}
		h, err := v1.NewHash(id.DigestStr())
		if err != nil {
			t.Fatal(err)
		}
		s.IndexDigest = &h
	}
	return s
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	v := provenance.New()
	ctx := context.Background()
	cases := []struct {
		subject string
		policy  provenance.Policy
		status  string // expected evidence status; "" expects an error
		signed  string // "image" or "index": the digest the signature signs
		reason  string // part of the expected error
	}{
		{subject: "alice", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}}, status: provenance.Verified, signed: "image"},
		{subject: "alice", policy: provenance.Policy{Keys: []*provenance.Key{f.bob, f.alice}}, status: provenance.Verified, signed: "image"},
		{subject: "bob", policy: provenance.Policy{Keys: []*provenance.Key{f.bob}}, status: provenance.Verified, signed: "image"},
		{subject: "alice", policy: provenance.Policy{Keys: []*provenance.Key{f.bob}}, reason: "no signature verifies"},
		{subject: "tampered", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}}, reason: "no signature verifies"},
		{subject: "unsigned", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}}, status: provenance.Unsigned},
		{subject: "unsigned", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}, Require: true}, reason: "not signed"},
		{subject: "signedindex", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}}, status: provenance.Verified, signed: "index"},
		{subject: "signedindex", policy: provenance.Policy{Keys: []*provenance.Key{f.bob}}, reason: "no signature verifies"},
		{subject: "signedplatform", policy: provenance.Policy{Keys: []*provenance.Key{f.alice}, Require: true}, status: provenance.Verified, signed: "image"},
	}
	for _, c := range cases {
		name := c.subject
		for _, k := range c.policy.Keys {
			name += "/" + strings.TrimSuffix(k.Path[strings.LastIndex(k.Path, "/")+1:], ".pub")
		}
		if c.policy.Require {
			name += "/required"
		}
		t.Run(name, func(t *testing.T) {
			s := f.subjects[c.subject]
			ev, err := v.Check(ctx, s, c.policy)
			if c.status == "" {
				var pe *provenance.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a *provenance.Error", err)
				}
				if !strings.Contains(pe.Reason, c.reason) || pe.Image != s.Source || !strings.Contains(pe.Trust, c.policy.Keys[0].Path) {
					t.Fatalf("error %q does not name image, keys and %q", err, c.reason)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Record.Status != c.status || ev.Record.Checked.IsZero() {
				t.Fatalf("record = %+v, want status %s", ev.Record, c.status)
			}
			if c.status == provenance.Unsigned {
				return
			}
			want := s.Digest.String()
			if c.signed == "index" {
				want = s.IndexDigest.String()
			}
			if ev.Record.SignedDigest != want || len(ev.Record.Signatures) != 1 || ev.Record.SignatureManifest == "" {
				t.Fatalf("record = %+v, want one signature on %s", ev.Record, want)
			}
			if len(ev.Record.Keys) != 1 || ev.Record.Keys[0] != c.policy.Keys[len(c.policy.Keys)-1].ID {
				t.Fatalf("record keys = %v", ev.Record.Keys)
			}
			checkCarried(t, s, ev, c.policy.Keys, f)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		s := f.subjects["alice"]
		repo, err := name.NewRepository("127.0.0.1:1/team/alice") // nothing listens there
		if err != nil {
			t.Fatal(err)
		}
		s.Repo = repo
		_, err = v.Check(ctx, s, provenance.Policy{Keys: []*provenance.Key{f.alice}})
		var fe *provenance.FetchError
		if !errors.As(err, &fe) || errors.As(err, new(*provenance.Error)) || fe.Image != s.Source || fe.Digest != s.Digest.String() {
			t.Fatalf("err = %v, want a *provenance.FetchError naming the image and digest, not a verdict", err)
		}
	})
	t.Run("nokeys", func(t *testing.T) {
		ev, err := v.Check(ctx, f.subjects["unsigned"], provenance.Policy{Require: true})
		if ev != nil || err != nil {
			t.Fatalf("no keys: %v, %v; want nothing checked", ev, err)
		}
	})
}

// checkCarried re-checks the evidence offline, then with a blob missing,
// a wrong key and a payload that is not what was signed.
func checkCarried(t *testing.T, s provenance.Subject, ev *provenance.Evidence, keys []*provenance.Key, f *fixture) {
	t.Helper()
	rec := ev.Record
	rec.Carried = true
	img := &manifest.Image{Source: s.Source, Digest: s.Digest.String(), Signature: &rec}
	blobs := ev.Blobs
	lookup := func(m map[v1.Hash][]byte) func(v1.Hash) ([]byte, bool) {
		return func(h v1.Hash) ([]byte, bool) { b, ok := m[h]; return b, ok }
	}
	ctx := context.Background()
	got, err := provenance.CheckCarried(ctx, img, lookup(blobs), provenance.Policy{Keys: keys})
	if err != nil {
		t.Fatalf("carried evidence: %v", err)
	}
	if got.SignedDigest != rec.SignedDigest || len(got.Keys) != 1 {
		t.Fatalf("carried evidence: %+v", got)
	}
	checkCollected(t, img, blobs, keys)
	other := f.bob
	if keys[len(keys)-1] == f.bob {
		other = f.alice
	}
	if _, err := provenance.CheckCarried(ctx, img, lookup(blobs), provenance.Policy{Keys: []*provenance.Key{other}}); err == nil {
		t.Fatal("carried evidence verified with the wrong key")
	}
	for _, sd := range rec.Signatures {
		h, _ := v1.NewHash(sd)
		without := map[v1.Hash][]byte{}
		tampered := map[v1.Hash][]byte{}
		for k, b := range blobs {
			tampered[k] = b
			if k != h {
				without[k] = b
			}
		}
		if _, err := provenance.CheckCarried(ctx, img, lookup(without), provenance.Policy{Keys: keys}); err == nil || !strings.Contains(err.Error(), "not carried") {
			t.Fatalf("missing payload: err = %v", err)
		}
		tampered[h] = []byte(strings.Replace(string(blobs[h]), "sha256:", "sha256:0", 1))
		if _, err := provenance.CheckCarried(ctx, img, lookup(tampered), provenance.Policy{Keys: keys}); err == nil {
			t.Fatal("a changed payload verified")
		}
	}
}

// checkCollected feeds the evidence to a Carried as a bundle reader would
// (one entry per blob, plus entries it must leave alone) and re-checks it:
// once as carried, once with one image whose evidence is not carried.
func checkCollected(t *testing.T, img *manifest.Image, blobs map[v1.Hash][]byte, keys []*provenance.Key) {
	t.Helper()
	img.Key = "app/app-1.0.tgz"
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "images/" + img.Key, Image: img}}}
	c := provenance.NewCarried()
	for h, b := range blobs {
		e := manifest.Entry{Path: provenance.BlobPath(h), Size: int64(len(b)), SHA256: h.Hex}
		w := c.Writer(&e)
		if w == nil {
			t.Fatalf("blob %s is not collected", e.Path)
		}
		w.Write(b)
		m.Entries = append(m.Entries, e)
	}
	for _, e := range []manifest.Entry{
		{Path: "images/app/app-1.0.tgz", Size: 10, SHA256: strings.Repeat("a", 64)},
		{Path: provenance.BlobPath(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}), Size: 10, SHA256: strings.Repeat("c", 64)}, // not its own sum
		{Path: provenance.BlobPath(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("d", 64)}), Size: provenance.MaxBlobSize + 1, SHA256: strings.Repeat("d", 64)},
	} {
		if c.Writer(&e) != nil {
			t.Fatalf("entry %s (%d bytes, sha256 %s) is collected", e.Path, e.Size, e.SHA256)
		}
	}
	got, err := c.Check(context.Background(), m, provenance.Policy{Keys: keys})
	if err != nil || len(got) != 1 || got[0].Key != img.Key || got[0].Source != img.Source || got[0].SignedDigest != img.Signature.SignedDigest {
		t.Fatalf("Carried.Check = %+v, %v", got, err)
	}
	bare := &manifest.Image{Source: "example.org/bare:1", Key: "bare/bare-1.tgz", Digest: img.Digest}
	m.Entries = append(m.Entries, manifest.Entry{Path: "images/" + bare.Key, Image: bare})
	_, err = c.Check(context.Background(), m, provenance.Policy{Keys: keys})
	var pe *provenance.Error
	if !errors.As(err, &pe) || pe.Image != bare.Source || !strings.Contains(err.Error(), "carries no signature evidence") {
		t.Fatalf("an image without evidence: err = %v", err)
	}
}
