package bundle_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/bundle"
)

// Every bundle file name is formatted and read by one grammar, and what
// it formats it reads back.
func TestFileNameGrammar(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bundle.FileName
	}{
		{"b.tar", bundle.FileName{Base: "b", Kind: bundle.KindWhole}},
		{"d/b.tar.001", bundle.FileName{Base: "d/b", Kind: bundle.KindData, N: 1}},
		{"images-2026-11.tar.999", bundle.FileName{Base: "images-2026-11", Kind: bundle.KindData, N: 999}},
		{"b.parity.002", bundle.FileName{Base: "b", Kind: bundle.KindParity, N: 2}},
		{"x.y.parts.sha256", bundle.FileName{Base: "x.y", Kind: bundle.KindIndex}},
		{"b.parts.sha256.sig", bundle.FileName{Base: "b", Kind: bundle.KindIndexSig}},
		{"b.tar.tar.001", bundle.FileName{Base: "b.tar", Kind: bundle.KindData, N: 1}},
	} {
		got, ok := bundle.ParseFileName(tc.path)
		if !ok || got != tc.want {
			t.Errorf("ParseFileName(%q) = %+v, %v; want %+v", tc.path, got, ok, tc.want)
		}
		if s := tc.want.String(); s != tc.path {
			t.Errorf("%+v formats as %q, want %q", tc.want, s, tc.path)
		}
	}
	for _, bad := range []string{"b.tar.01", "b.tar.0001", "b.tar.00a", ".tar.001", "d/.tar.001", "b.parity", "b", "b.tar.003.damaged", "damaged", "b.parts.sha256.bak", "notes.txt"} {
		if got, ok := bundle.ParseFileName(bad); ok {
			t.Errorf("ParseFileName(%q) = %+v, want no bundle file", bad, got)
		}
	}
	if got := bundle.DamagedPath("d/b.tar.003"); got != "d/damaged/b.tar.003" {
		t.Errorf("DamagedPath = %q", got)
	}
	if bundle.PartPath("b", 7) != "b.tar.007" || bundle.ParityPath("b", 1) != "b.parity.001" ||
		bundle.IndexPath("b") != "b.parts.sha256" || bundle.IndexSigPath("b") != "b.parts.sha256.sig" || bundle.SinglePath("b") != "b.tar" {
		t.Error("the path helpers do not follow the grammar")
	}
}

// A bundle name with glob characters still finds its own parts: export
// never writes beside parts of the same name, even without their index.
func TestGlobCharactersInNames(t *testing.T) {
	f := newFixture(t)
	res := f.write(t, "x[1]", bundle.WithPartSize(4096))
	for _, p := range res.Extra {
		os.Remove(p)
	}
	err := bundle.CheckOutput(filepath.Join(f.dir, "x[1]"))
	var ee *bundle.ExistsError
	if !errors.As(err, &ee) || ee.Path != res.Files[0] {
		t.Fatalf("CheckOutput = %v, want %s named as existing", err, res.Files[0])
	}
	got, err := bundle.ResolveParts([]string{res.Files[0]})
	if err != nil || len(got) != len(res.Files) {
		t.Fatalf("ResolveParts = %v, %v; want %v", got, err, res.Files)
	}
}
