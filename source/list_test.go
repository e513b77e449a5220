package source

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/concourse"
)

func TestParseListFile(t *testing.T) {
	f, err := os.Open("testdata/images.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reqs, err := ParseList(f, "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	type nv struct{ where, name, version string }
	want := []nv{
		{"images.txt:2", "ubuntu", "22.04"},
		{"images.txt:3", "ubuntu-minimal", "22.04"},
		{"images.txt:5", "alpine", "3.19.1"},
		{"images.txt:6", "builder", "1.2.3-alpine"},
		{"images.txt:7", "app", "2024.01.15"},
		{"images.txt:8", "app", "3.19.1_r0"},
		{"images.txt:9", "distroless", "latest"},
	}
	var got []nv
	for _, r := range reqs {
		n, v, err := r.NameVersion()
		if err != nil {
			t.Fatalf("%s: %v", r.Where(), err)
		}
		got = append(got, nv{r.Where(), n, v})
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string
	}{
		{"digest needs override", "ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			[]string{"list.txt:2:", "pinned by digest", `add "as NAME:VERSION"`}},
		{"bad override version", "ubuntu:22.04 as ubuntu:1..2", []string{"list.txt:2:", `"1..2"`, "empty component"}},
		{"colon in version", "ubuntu:22.04 as ubuntu:v1:2", []string{"list.txt:2:", "never a version"}},
		{"bad tag as version", "ubuntu:1.2-", []string{"list.txt:2:", `"1.2-"`, `add "as NAME:VERSION" with a valid version`}},
		{"bad name", "ubuntu:22.04 as Ubuntu:22.04", []string{"list.txt:2:", `invalid name "Ubuntu"`}},
		{"empty name", "ubuntu:22.04 as :22.04", []string{"list.txt:2:", "empty NAME"}},
		{"empty version", "ubuntu:22.04 as ubuntu:", []string{"list.txt:2:", "empty VERSION"}},
		{"missing override", "ubuntu:22.04 as", []string{"list.txt:2:", `want "REF as NAME:VERSION"`}},
		{"extra words", "ubuntu:22.04 alpine:3", []string{"list.txt:2:", `unexpected "alpine:3"`}},
		{"bad reference", "UPPER/Case:1", []string{"list.txt:2:", "invalid image reference"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseList(strings.NewReader("# header\n"+tt.line+"\n"), "list.txt")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseListReportsEveryBadLine(t *testing.T) {
	list := "ubuntu:1..2\nalpine:3.19\nbusybox@sha256:" + strings.Repeat("ab", 32) + "\n"
	_, err := ParseList(strings.NewReader(list), "l")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"l:1:", "l:3:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
	if strings.Contains(err.Error(), "l:2:") {
		t.Errorf("error %q blames the good line", err)
	}
}

func TestParseListCommentsAndBlank(t *testing.T) {
	list := "\ufeff# only comments\r\n\r\n   \n#alpine:3\nalpine:3#trailing\n"
	reqs, err := ParseList(strings.NewReader(list), "l")
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].Ref != "alpine:3" || reqs[0].Line != 5 {
		t.Errorf("got %+v, want alpine:3 from line 5", reqs)
	}
}

func TestFromArgs(t *testing.T) {
	reqs, err := FromArgs([]string{"alpine:3.19", "ubuntu:22.04", "as", "ubuntu-minimal:22.04", "busybox:1 as bb:1.36"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{
		{Ref: "alpine:3.19", Line: 1},
		{Ref: "ubuntu:22.04", AsName: "ubuntu-minimal", AsVersion: "22.04", Line: 2},
		{Ref: "busybox:1", AsName: "bb", AsVersion: "1.36", Line: 5},
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("got %+v\nwant %+v", reqs, want)
	}
	_, err = FromArgs([]string{"ok:1", "bad@sha256:" + strings.Repeat("0", 64), "x:1", "as"})
	if err == nil || !strings.Contains(err.Error(), "argument 2:") || !strings.Contains(err.Error(), "argument 3:") {
		t.Errorf("got %v, want errors for arguments 2 and 3", err)
	}
}

func TestNameOverrideOnly(t *testing.T) {
	n, v, err := Request{Ref: "ghcr.io/a/b/c:1.0", AsName: "tools"}.NameVersion()
	if err != nil || n != "tools" || v != "1.0" {
		t.Errorf("got %q %q %v, want tools 1.0", n, v, err)
	}
}

func FuzzParseList(f *testing.F) {
	seed, err := os.ReadFile("testdata/images.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	for _, s := range []string{
		"", "#", "ubuntu", "ubuntu:22.04 as u:1", "a as b", "x@sha256:" + strings.Repeat("a", 64) + " as x:1",
		"ubuntu:1..2", "\ufeffalpine # c\r\n", "a:1 as b:c:d", "localhost:5000/a/b:1.2+x",
		"a:1 lint=off", "a:1 as b:2 verify=k.pub lint=error", "a:1 lint=warn verify=k.pub", "a:1 lint=", "lint=off",
		`a:1 identity=^https://github\.com/a/ issuer=https://token.actions.githubusercontent.com`, "a:1 issuer=x lint=off identity=y verify=k.pub", "a:1 identity=", "issuer=x",
	} {
		f.Add(s)
	}
	kt, err := concourse.ParseKeyTemplate(concourse.MultiPlatformKeyTemplate)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, list string) {
		reqs, err := ParseList(strings.NewReader(list), "f")
		if err != nil {
			return
		}
		for _, r := range reqs {
			n, v, err := r.NameVersion()
			if err != nil {
				t.Fatalf("accepted %q but NameVersion fails: %v", r, err)
			}
			if concourse.ValidateName(n) != nil || concourse.ValidateVersion(v) != nil {
				t.Fatalf("accepted invalid name %q or version %q", n, v)
			}
			if _, err := kt.Key(keyData(n, v, DefaultPlatform)); err != nil {
				t.Fatalf("accepted %q but key is invalid: %v", r, err)
			}
			again, err := ParseList(strings.NewReader(r.String()), "f")
			if err != nil || len(again) != 1 || again[0].String() != r.String() {
				t.Fatalf("%q does not round-trip: %v %v", r, again, err)
			}
		}
	})
}
