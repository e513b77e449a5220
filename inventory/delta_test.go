package inventory

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
