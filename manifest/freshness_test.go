package manifest

import (
	"errors"
	"testing"
	"time"
)

func TestFreshnessValidate(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good := Freshness{Channel: "0123456789abcdef", Sequence: 1, Expires: created.Add(time.Hour), Previous: hexA}
	if err := good.Validate(created); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Freshness){
		"empty channel":     func(f *Freshness) { f.Channel = "" },
		"slash in channel":  func(f *Freshness) { f.Channel = "a/b" },
		"dot dot channel":   func(f *Freshness) { f.Channel = ".." },
		"upper channel":     func(f *Freshness) { f.Channel = "Prod" },
		"long channel":      func(f *Freshness) { f.Channel = string(make([]byte, 65)) },
		"sequence zero":     func(f *Freshness) { f.Sequence = 0 },
		"expires = created": func(f *Freshness) { f.Expires = created },
		"expires before":    func(f *Freshness) { f.Expires = created.Add(-time.Second) },
		"bad previous":      func(f *Freshness) { f.Previous = "sha256:" + hexA },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			f := good
			mutate(&f)
			if err := f.Validate(created); !errors.As(err, new(*FreshnessError)) {
				t.Fatalf("Validate = %v, want a *FreshnessError", err)
			}
			m := Manifest{Format: FormatVersion, Created: created, Signer: "0123456789abcdef", Freshness: &f}
			if err := m.Validate(); err == nil {
				t.Fatal("a manifest with this freshness validates")
			}
		})
	}
}
