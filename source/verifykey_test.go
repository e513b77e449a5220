package source

import (
	"strings"
	"testing"
)

func TestParseListVerifyOption(t *testing.T) {
	list := "ghcr.io/org/tool:1.4 verify=keys/org.pub\n" +
		"docker.io/library/alpine:3.19 as base:3.19 verify=/etc/keys/alpine.pub # pinned publisher\n" +
		"docker.io/library/busybox:1.36\n"
	reqs, err := ParseList(strings.NewReader(list), "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ ref, as, key string }{
		{"ghcr.io/org/tool:1.4", "", "keys/org.pub"},
		{"docker.io/library/alpine:3.19", "base", "/etc/keys/alpine.pub"},
		{"docker.io/library/busybox:1.36", "", ""},
	}
	for i, w := range want {
		r := reqs[i]
		if r.Ref != w.ref || r.AsName != w.as || r.VerifyKey != w.key {
			t.Errorf("line %d: got %+v, want %+v", i+1, r, w)
		}
		back, err := ParseList(strings.NewReader(r.String()), "again")
		if err != nil || back[0].VerifyKey != r.VerifyKey || back[0].Ref != r.Ref || back[0].AsName != r.AsName {
			t.Errorf("%q does not read back: %+v, %v", r.String(), back, err)
		}
	}
}

func TestParseListVerifyOptionErrors(t *testing.T) {
	for line, want := range map[string]string{
		"alpine:3.19 verify=":                   "empty PATH",
		"verify=k.pub":                          "needs an image reference",
		"alpine:3.19 verify=a.pub verify=b.pub": `unexpected "verify=a.pub"`,
		"alpine:3.19 verify=a.pub as x:1":       `unexpected "verify=a.pub"`,
	} {
		_, err := ParseList(strings.NewReader(line+"\n"), "l")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "l:1:") {
			t.Errorf("%q: err = %v, want %q", line, err, want)
		}
	}
}
