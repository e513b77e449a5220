package source

import (
	"strings"
	"testing"
)

func TestParseListLintOption(t *testing.T) {
	list := "ghcr.io/org/tool:1.4 lint=error\n" +
		"docker.io/library/alpine:3.19 as base:3.19 verify=k.pub lint=off # known capability\n" +
		"docker.io/library/ubuntu:22.04 lint=warn verify=k.pub\n" +
		"docker.io/library/busybox:1.36\n"
	reqs, err := ParseList(strings.NewReader(list), "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key  string
		lint LintPolicy
	}{{"", LintError}, {"k.pub", LintOff}, {"k.pub", LintWarn}, {"", ""}}
	for i, w := range want {
		r := reqs[i]
		if r.VerifyKey != w.key || r.Lint != w.lint {
			t.Errorf("line %d: got %+v, want %+v", i+1, r, w)
		}
		back, err := ParseList(strings.NewReader(r.String()), "again")
		if err != nil || back[0] != (Request{Ref: r.Ref, AsName: r.AsName, AsVersion: r.AsVersion, VerifyKey: r.VerifyKey, Lint: r.Lint, File: "again", Line: 1}) {
			t.Errorf("%q does not read back: %+v, %v", r.String(), back, err)
		}
	}
}

func TestParseListLintOptionErrors(t *testing.T) {
	for line, want := range map[string]string{
		"alpine:3.19 lint=":                      `lint policy "": want error, warn or off`,
		"alpine:3.19 lint=strict":                `lint policy "strict"`,
		"lint=off":                               "needs an image reference",
		"alpine:3.19 lint=off lint=warn":         `unexpected "lint=off"`,
		"alpine:3.19 lint=off as x:1":            `unexpected "lint=off"`,
		"alpine:3.19 verify=a lint=off verify=b": `unexpected "verify=a"`,
	} {
		_, err := ParseList(strings.NewReader(line+"\n"), "l")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "l:1:") {
			t.Errorf("%q: err = %v, want %q", line, err, want)
		}
	}
}
