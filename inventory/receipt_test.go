package inventory

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/verify"
)

func sampleReceipt() *Receipt {
	return &Receipt{Format: FormatVersion, Type: Type, Created: time.Unix(1700000000, 0).UTC(), Bucket: "images", Prefix: "concourse/",
		Images: []Image{
			{Key: "app/app-1.0.tgz", Digest: digestOf("a"), Platform: "linux/amd64", Size: 100, SHA256: strings.Repeat("1", 64), Bundle: "0123456789abcdef"},
			{Key: "tool/tool-2.0.tgz", Digest: digestOf("b"), Platform: "linux/arm64/v8", Size: 200, SHA256: strings.Repeat("2", 64), Bundle: "0123456789abcdef"},
		},
		LeftOut: []LeftOut{{Image: Image{Key: "gone/gone-1.tgz", Digest: digestOf("c"), Platform: "linux/amd64", Size: 300,
			SHA256: strings.Repeat("3", 64), Bundle: "0123456789abcdef"}, Reason: Missing, Detail: "no object"}},
		Members: []HeldMember{
			{SHA256: strings.Repeat("a", 64), Key: "app/app-1.0.tgz", Offset: 0, Length: 60},
			{SHA256: strings.Repeat("b", 64), Key: "tool/tool-2.0.tgz", Offset: 150, Length: 50},
		},
	}
}

func digestOf(s string) string { return "sha256:" + strings.Repeat(s, 64) }

func newKey(t *testing.T, dir, name string) (ed25519.PrivateKey, keys.Public) {
	t.Helper()
	base := filepath.Join(dir, name)
	if _, err := keys.Generate(base); err != nil {
		t.Fatal(err)
	}
	priv, err := keys.LoadPrivate(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.LoadPublic(base + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func writePair(t *testing.T, path string, data, sig []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + SigSuffix)
	if sig != nil {
		if err := os.WriteFile(path+SigSuffix, sig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadChecksTheSignature(t *testing.T) {
	dir := t.TempDir()
	priv, pub := newKey(t, dir, "offline")
	_, other := newKey(t, dir, "other")
	path := filepath.Join(dir, "receipt.json")
	data, sig, err := sampleReceipt().Sign(priv)
	if err != nil {
		t.Fatal(err)
	}

	writePair(t, path, data, sig)
	r, err := Load(path, []keys.Public{other, pub}, false)
	if err != nil {
		t.Fatalf("signed receipt: %v", err)
	}
	if r.SignedBy == nil || r.SignedBy.ID != pub.ID || r.Signer != pub.ID || len(r.Images) != 2 {
		t.Fatalf("signed receipt read as %+v", r)
	}
	if _, err := Load(path, []keys.Public{other}, false); !verify.IsFailure(err) {
		t.Fatalf("receipt checked against another key: err = %v, want a verification failure", err)
	}
	if _, err := Load(path, nil, false); err == nil || verify.IsFailure(err) {
		t.Fatalf("signed receipt without keys: err = %v, want a plain error", err)
	}

	tampered := []byte(strings.Replace(string(data), `"size": 100`, `"size": 101`, 1))
	writePair(t, path, tampered, sig)
	if _, err := Load(path, []keys.Public{pub}, false); !verify.IsFailure(err) || !strings.Contains(err.Error(), path) {
		t.Fatalf("tampered receipt: err = %v, want a verification failure naming %s", err, path)
	}
	if _, err := Load(path, []keys.Public{pub}, true); !verify.IsFailure(err) {
		t.Fatalf("tampered receipt with unsigned allowed but a key given: err = %v, want a verification failure", err)
	}

	// A signature by the right key over a receipt naming another signer.
	r2 := sampleReceipt()
	r2.Signer = other.ID
	lying, _ := r2.Marshal()
	writePair(t, path, lying, ed25519.Sign(priv, lying))
	if _, err := Load(path, []keys.Public{pub}, false); !verify.IsFailure(err) || !strings.Contains(err.Error(), "names signer") {
		t.Fatalf("receipt naming another signer: err = %v", err)
	}

	unsigned, _ := sampleReceipt().Marshal()
	writePair(t, path, unsigned, nil)
	var ue *UnsignedError
	if _, err := Load(path, []keys.Public{pub}, false); !errors.As(err, &ue) {
		t.Fatalf("unsigned receipt: err = %v, want *UnsignedError", err)
	}
	if r, err := Load(path, nil, true); err != nil || r.SignedBy != nil {
		t.Fatalf("unsigned receipt, allowed: %v, %+v", err, r)
	}
}

func TestParseRejectsBadFields(t *testing.T) {
	for name, edit := range map[string]func(r *Receipt){
		"format":         func(r *Receipt) { r.Format = 2 },
		"type":           func(r *Receipt) { r.Type = "airlock-audit" },
		"prefix":         func(r *Receipt) { r.Prefix = "../up/" },
		"prefix slash":   func(r *Receipt) { r.Prefix = "concourse" },
		"key escapes":    func(r *Receipt) { r.Images[0].Key = "../etc/app-1.0.tgz" },
		"key record":     func(r *Receipt) { r.Images[0].Key = ".airlock/bundles/x.tgz" },
		"digest":         func(r *Receipt) { r.Images[0].Digest = "sha256:abc" },
		"digest algo":    func(r *Receipt) { r.Images[0].Digest = "sha512:" + strings.Repeat("a", 128) },
		"platform":       func(r *Receipt) { r.Images[0].Platform = "linux" },
		"size":           func(r *Receipt) { r.Images[0].Size = -1 },
		"sha256":         func(r *Receipt) { r.Images[0].SHA256 = "XYZ" },
		"bundle":         func(r *Receipt) { r.Images[0].Bundle = "../../x" },
		"duplicate":      func(r *Receipt) { r.Images[1].Key = r.Images[0].Key },
		"left twice":     func(r *Receipt) { r.LeftOut[0].Key = r.Images[0].Key },
		"left reason":    func(r *Receipt) { r.LeftOut[0].Reason = "bored" },
		"left bad field": func(r *Receipt) { r.LeftOut[0].Digest = "latest" },
		"member sha256":  func(r *Receipt) { r.Members[0].SHA256 = "ab" },
		"member order":   func(r *Receipt) { r.Members[0], r.Members[1] = r.Members[1], r.Members[0] },
		"member twice":   func(r *Receipt) { r.Members[1].SHA256 = r.Members[0].SHA256 },
		"member key":     func(r *Receipt) { r.Members[0].Key = "gone/gone-1.tgz" },
		"member offset":  func(r *Receipt) { r.Members[0].Offset = -1 },
		"member length":  func(r *Receipt) { r.Members[0].Length = 0 },
		"member beyond":  func(r *Receipt) { r.Members[1].Offset = 151 },
		"member huge":    func(r *Receipt) { r.Members[1].Offset, r.Members[1].Length = 1, 1<<62 },
		"image members gap": func(r *Receipt) {
			r.Images[0].Members = []Member{{SHA256: strings.Repeat("c", 64), Offset: 0, Length: 40}, {SHA256: strings.Repeat("d", 64), Offset: 50, Length: 50}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := sampleReceipt()
			edit(r)
			data, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(data); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	data, _ := sampleReceipt().Marshal()
	if _, err := Parse(data); err != nil {
		t.Fatalf("good receipt: %v", err)
	}
}

// TestHeldMembersReadsTableAndOldLists: the receipt's table gives each
// member's place; a receipt of an earlier airlock, whose images list their
// own members, gives the same references.
func TestHeldMembersReadsTableAndOldLists(t *testing.T) {
	r := sampleReceipt()
	held := r.HeldMembers()
	if got := held[strings.Repeat("b", 64)]; got.Key != "tool/tool-2.0.tgz" || got.Offset != 150 || got.Length != 50 || got.ObjectSHA256 != strings.Repeat("2", 64) {
		t.Errorf("member b: %+v", got)
	}
	old := sampleReceipt()
	old.Members = nil
	old.Images[0].Members = []Member{{SHA256: strings.Repeat("a", 64), Offset: 0, Length: 60}, {SHA256: strings.Repeat("c", 64), Offset: 60, Length: 40}}
	old.Images[1].Members = []Member{{SHA256: strings.Repeat("c", 64), Offset: 0, Length: 150}, {SHA256: strings.Repeat("b", 64), Offset: 150, Length: 50}}
	data, err := old.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(data)
	if err != nil {
		t.Fatalf("a receipt of an earlier airlock: %v", err)
	}
	held = parsed.HeldMembers()
	if len(held) != 3 {
		t.Fatalf("%d members held, want 3: %+v", len(held), held)
	}
	if c := held[strings.Repeat("c", 64)]; c.Key != "app/app-1.0.tgz" || c.Offset != 60 || c.ObjectSHA256 != strings.Repeat("1", 64) {
		t.Errorf("member c, in both objects: %+v, want it in app/app-1.0.tgz (the smallest key) at 60", c)
	}
}
