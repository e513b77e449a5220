package source

import (
	"strings"
	"testing"
)

func TestParseListIdentityOptions(t *testing.T) {
	list := `ghcr.io/acme/app:1.0 identity=^https://github\.com/acme/ issuer=https://token.actions.githubusercontent.com` + "\n" +
		"ghcr.io/acme/tool:2 as tool:2 issuer=https://accounts.google.com lint=off identity=^ops@acme\\.com$ verify=k.pub\n"
	reqs, err := ParseList(strings.NewReader(list), "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{
		{Ref: "ghcr.io/acme/app:1.0", Identity: `^https://github\.com/acme/`, Issuer: "https://token.actions.githubusercontent.com", File: "images.txt", Line: 1},
		{Ref: "ghcr.io/acme/tool:2", AsName: "tool", AsVersion: "2", VerifyKey: "k.pub", Identity: `^ops@acme\.com$`, Issuer: "https://accounts.google.com", Lint: LintOff, File: "images.txt", Line: 2},
	}
	for i, r := range reqs {
		if r != want[i] {
			t.Fatalf("line %d: %+v, want %+v", i+1, r, want[i])
		}
		back, err := ParseList(strings.NewReader(r.String()), "images.txt")
		if err != nil || back[0].Identity != r.Identity || back[0].Issuer != r.Issuer {
			t.Fatalf("%q reads back as %+v, %v", r.String(), back, err)
		}
	}
	for line, msg := range map[string]string{
		"a:1 identity=":                    `empty REGEXP in "identity="`,
		"a:1 issuer=":                      `empty URL in "issuer="`,
		"identity=x":                       "needs an image reference",
		"a:1 issuer=a identity=b issuer=c": `unexpected "issuer=a"`,
	} {
		if _, err := ParseList(strings.NewReader(line), "l"); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: err = %v, want %q", line, err, msg)
		}
	}
}
