package inventory

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/source"
)

func target(t *testing.T, key, digest, platform string) source.Target {
	t.Helper()
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	return source.Target{Request: source.Request{Ref: "reg/" + key}, Key: key, Digest: h, Platform: *p}
}

func TestDelta(t *testing.T) {
	r := sampleReceipt()
	targets := []source.Target{
		target(t, "app/app-1.0.tgz", digestOf("a"), "linux/amd64"),      // present
		target(t, "app/app-1.1.tgz", digestOf("d"), "linux/amd64"),      // new version
		target(t, "app/app-1.0.1.tgz", digestOf("a"), "linux/amd64"),    // retagged
		target(t, "gone/gone-1.tgz", digestOf("c"), "linux/amd64"),      // left out: missing
		target(t, "tool/tool-2.0.tgz", digestOf("b"), "linux/arm64/v8"), // present
	}
	p, err := Delta(r, targets, "concourse/")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ship   bool
		reason string
	}{{false, Present}, {true, New}, {true, Retagged}, {true, Repairing}, {false, Present}}
	for i, d := range p.Decisions {
		if d.Ship != want[i].ship || d.Reason != want[i].reason {
			t.Errorf("%s: ship=%v reason=%q, want %v %q", d.Target.Key, d.Ship, d.Reason, want[i].ship, want[i].reason)
		}
	}
	if p.Decisions[2].Have == nil || p.Decisions[2].Have.Key != "app/app-1.0.tgz" {
		t.Errorf("retag rests on %+v, want app/app-1.0.tgz", p.Decisions[2].Have)
	}
	if !strings.Contains(p.Decisions[3].Detail, Missing) {
		t.Errorf("left-out detail = %q", p.Decisions[3].Detail)
	}
	if got := len(p.Ship()); got != 3 || p.Skipped() != 2 || p.Saved != 300 {
		t.Errorf("ship %d, skip %d, saved %d; want 3, 2, 300", got, p.Skipped(), p.Saved)
	}

	p, err = Delta(r, targets[:1], "concourse/")
	if err != nil || len(p.Ship()) != 0 {
		t.Fatalf("all present: %v, ship %d", err, len(p.Ship()))
	}
}

func TestDeltaRefusesMovedTags(t *testing.T) {
	r := sampleReceipt()
	_, err := Delta(r, []source.Target{
		target(t, "app/app-1.1.tgz", digestOf("d"), "linux/amd64"),
		target(t, "app/app-1.0.tgz", digestOf("e"), "linux/amd64"),
		target(t, "tool/tool-2.0.tgz", digestOf("b"), "linux/amd64"), // same digest, other platform
	}, "concourse/")
	var m *MovedError
	if !errors.As(err, &m) || len(m.Moves) != 2 {
		t.Fatalf("err = %v, want a *MovedError with two moves", err)
	}
	for _, s := range []string{"concourse/app/app-1.0.tgz", digestOf("a"), digestOf("e"), "concourse/tool/tool-2.0.tgz"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestDeltaRefusesAnotherPrefix(t *testing.T) {
	for _, prefix := range []string{"", "other/"} {
		_, err := Delta(sampleReceipt(), nil, prefix)
		var pe *PrefixError
		if !errors.As(err, &pe) || pe.Have != "concourse/" || pe.Wanted != prefix {
			t.Errorf("prefix %q: err = %v, want a *PrefixError", prefix, err)
		}
	}
}

// The base of a delta is every skipped image as the receipt records it, in
// key order; it names the receipt's signer only when its signature was
// checked, and is nil when nothing is skipped.
func TestPlanBase(t *testing.T) {
	r := sampleReceipt()
	targets := []source.Target{
		target(t, "tool/tool-2.0.tgz", digestOf("b"), "linux/arm64/v8"), // present
		target(t, "app/app-1.1.tgz", digestOf("d"), "linux/amd64"),      // new
		target(t, "app/app-1.0.tgz", digestOf("a"), "linux/amd64"),      // present
	}
	p, err := Delta(r, targets, "concourse/")
	if err != nil {
		t.Fatal(err)
	}
	b := p.Base()
	if b == nil || len(b.Objects) != 2 || b.Objects[0].Key != "app/app-1.0.tgz" || b.Objects[1].Key != "tool/tool-2.0.tgz" ||
		b.Prefix != "concourse/" || b.Bucket != r.Bucket || !b.Created.Equal(r.Created) {
		t.Fatalf("base = %+v", b)
	}
	if b.Objects[0].Size != r.Images[0].Size || b.Objects[0].SHA256 != r.Images[0].SHA256 {
		t.Errorf("base object %+v, want the receipt's %+v", b.Objects[0], r.Images[0])
	}
	r.Signer = "fedcba9876543210" // claimed in the file, never checked
	if b := p.Base(); b.Signer != "" {
		t.Errorf("base names signer %q of a receipt whose signature was not checked", b.Signer)
	}
	r.SignedBy = &keys.Public{ID: "0123456789abcdef"}
	if b := p.Base(); b.Signer != "0123456789abcdef" {
		t.Errorf("base signer = %q, want the key that checked the receipt", b.Signer)
	}
	p, err = Delta(r, targets[1:2], "concourse/")
	if err != nil || p.Base() != nil {
		t.Fatalf("nothing skipped: base %+v, %v; want none", p.Base(), err)
	}
}
