package freshness

import (
	"testing"
	"time"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

func TestJudgeTellsATamperedStateApart(t *testing.T) {
	raw := []byte(`{"format":1}`)
	f := &manifest.Freshness{Channel: "prod", Sequence: 3, Expires: t0.Add(time.Hour)}
	rec := record.Summarize(record.Record{ID: "0123456789abcdef", Signer: keys.Public{ID: signer}, Raw: raw, Manifest: &manifest.Manifest{Freshness: f}})
	good := func() *State {
		return &State{Format: 1, Signer: signer, Channel: "prod", Sequence: 3, Digest: Digest(raw), Bundle: rec.ID, Expires: f.Expires,
			History: []Past{{Sequence: 3, Digest: Digest(raw), Bundle: rec.ID}}}
	}
	records := []record.Summary{rec}
	byID := map[string]record.Summary{rec.ID: rec}
	if r := judge("k", good(), byID, records, t0); r.Health != Healthy {
		t.Fatalf("good state: %+v", r)
	}
	if r := judge("k", good(), byID, records, f.Expires); r.Health != Frozen {
		t.Fatalf("at the expiry: %+v, want %s", r, Frozen)
	}
	cases := map[string]func(*State){
		"names a missing record":  func(st *State) { st.Bundle = "fedcba9876543210" },
		"names another digest":    func(st *State) { st.Digest = Digest([]byte("other")) },
		"claims another sequence": func(st *State) { st.Sequence = 7 },
		"claims another channel":  func(st *State) { st.Channel = "test" },
	}
	for name, mutate := range cases {
		st := good()
		mutate(st)
		if r := judge("k", st, byID, records, t0); r.Health != Tampered {
			t.Errorf("%s: %+v, want %s", name, r, Tampered)
		}
	}
	newer := rec
	newer.ID = "1111111111111111"
	newer.Freshness = &manifest.Freshness{Channel: "prod", Sequence: 4, Expires: f.Expires}
	if r := judge("k", good(), byID, append(records, newer), t0); r.Health != Lagging {
		t.Fatalf("a newer record: %+v, want %s", r, Lagging)
	}
}
