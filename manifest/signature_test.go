package manifest

import (
	"strings"
	"testing"
)

func TestSignatureCheck(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	good := func() *Signature {
		return &Signature{Status: "verified", Bundles: []string{d},
			Identities:   []Identity{{Subject: "https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com"}},
			Attestations: []Attestation{{PredicateType: "https://cyclonedx.org/bom", Manifest: d, Bundle: d}}}
	}
	if err := good().Check(); err != nil {
		t.Fatal(err)
	}
	if err := (&Signature{Status: "verified"}).Check(); err != nil {
		t.Fatalf("a record without the new fields: %v", err)
	}
	for name, c := range map[string]struct {
		edit func(*Signature)
		want string
	}{
		"bundle digest":       {func(s *Signature) { s.Bundles[0] = "sha256:AB" }, "bundle digest"},
		"too many bundles":    {func(s *Signature) { s.Bundles = make([]string, MaxBundles+1) }, "bundles, more than"},
		"escape in subject":   {func(s *Signature) { s.Identities[0].Subject = "a\x1b[2Jb" }, "printable"},
		"empty issuer":        {func(s *Signature) { s.Identities[0].Issuer = "" }, "printable"},
		"long issuer":         {func(s *Signature) { s.Identities[0].Issuer = strings.Repeat("x", 1025) }, "printable"},
		"relative predicate":  {func(s *Signature) { s.Attestations[0].PredicateType = "cyclonedx" }, "absolute URI"},
		"newline predicate":   {func(s *Signature) { s.Attestations[0].PredicateType = "https://x/\n" }, "absolute URI"},
		"attestation bundle":  {func(s *Signature) { s.Attestations[0].Bundle = "md5:1" }, "not sha256"},
		"attestation format":  {func(s *Signature) { s.Attestations[0].Format = "jws" }, "unknown format"},
		"too many identities": {func(s *Signature) { s.Identities = make([]Identity, MaxIdentities+1) }, "identities, more than"},
	} {
		s := good()
		c.edit(s)
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}
