package source

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

func TestKeyTemplate(t *testing.T) {
	tests := []struct {
		tmpl, key, re string
		d             KeyData
	}{
		{DefaultKeyTemplate, "ubuntu/ubuntu-22.04.tgz", `ubuntu/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", amd64)},
		{MultiPlatformKeyTemplate, "ubuntu/linux-amd64/ubuntu-22.04.tgz", `ubuntu/linux-amd64/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", amd64)},
		{MultiPlatformKeyTemplate, "ubuntu/linux-arm64-v8/ubuntu-22.04.tgz", `ubuntu/linux-arm64-v8/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", arm64)},
		{"images/{{.Name}}/{{.Version}}/rootfs.tar.gz", "images/ubuntu/1.2+b/rootfs.tar.gz", `images/ubuntu/(.*)/rootfs\.tar\.gz`, keyData("ubuntu", "1.2+b", amd64)},
		{"{{.Platform}}/{{.Name}}-{{.Version}}.tgz", "linux/arm64/v8/x-1.tgz", `linux/arm64/v8/x-(.*)\.tgz`, keyData("x", "1", arm64)},
	}
	for _, tt := range tests {
		kt, err := ParseKeyTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("ParseKeyTemplate(%q): %v", tt.tmpl, err)
		}
		key, err := kt.Key(tt.d)
		if err != nil || key != tt.key {
			t.Errorf("%q.Key = %q, %v; want %q", tt.tmpl, key, err, tt.key)
		}
		re, err := kt.Regexp(tt.d)
		if err != nil || re != tt.re {
			t.Errorf("%q.Regexp = %q, %v; want %q", tt.tmpl, re, err, tt.re)
		}
	}
}

func TestParseKeyTemplateErrors(t *testing.T) {
	bad := map[string]string{
		"{{.Name}}/{{.Name}}-{{.Version}}.tar":   ".tgz or .tar.gz",
		"{{.Name}}/{{.Name}}.tgz":                "does not contain {{.Version}}",
		"/{{.Name}}/{{.Name}}-{{.Version}}.tgz":  "clean relative key",
		"{{.Name}}//{{.Name}}-{{.Version}}.tgz":  "clean relative key",
		"../{{.Name}}-{{.Version}}.tgz":          "clean relative key",
		"{{.Name}}/{{.Nope}}-{{.Version}}.tgz":   "Nope",
		"{{.Name}-{{.Version}}.tgz":              "parsing key template",
		"{{.Name}} {{.Version}}.tgz":             `character ' '`,
		"{{.Name}}\\{{.Version}}.tgz":            `character '\\'`,
		"{{.Name}}~{{.Version}}.tgz":             `character '~'`,
		"{{.Name}}é{{.Version}}.tgz":             `character 'é'`,
		"{{.Name}}/{{.Version}}/{{.Name}}/.tgz/": ".tgz or .tar.gz",
	}
	for tmpl, want := range bad {
		_, err := ParseKeyTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeyTemplate(%q) = %v, want error containing %q", tmpl, err, want)
		}
	}
}

func TestPlanDefaultTemplates(t *testing.T) {
	reqs := []Request{{Ref: "ubuntu:22.04", File: "l", Line: 1}, {Ref: "alpine:3.19", File: "l", Line: 2}}
	one, err := Plan(reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(one); got != "ubuntu/ubuntu-22.04.tgz alpine/alpine-3.19.tgz" {
		t.Errorf("one platform: keys %s", got)
	}
	two, err := Plan(reqs, []v1.Platform{amd64, arm64})
	if err != nil {
		t.Fatal(err)
	}
	want := "ubuntu/linux-amd64/ubuntu-22.04.tgz ubuntu/linux-arm64-v8/ubuntu-22.04.tgz " +
		"alpine/linux-amd64/alpine-3.19.tgz alpine/linux-arm64-v8/alpine-3.19.tgz"
	if got := keys(two); got != want {
		t.Errorf("two platforms: keys %s", got)
	}
	user, err := Plan(reqs, []v1.Platform{amd64, arm64}, WithKeyTemplate("{{.Name}}/{{.Arch}}/{{.Name}}-{{.Version}}.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(user[:2]); got != "ubuntu/amd64/ubuntu-22.04.tgz ubuntu/arm64/ubuntu-22.04.tgz" {
		t.Errorf("user template: keys %s", got)
	}
}

func keys(ts []Target) string {
	var ks []string
	for _, t := range ts {
		ks = append(ks, t.Key)
	}
	return strings.Join(ks, " ")
}

func TestPlanDuplicateKeys(t *testing.T) {
	reqs := []Request{
		{Ref: "docker.io/library/ubuntu:22.04", File: "l", Line: 1},
		{Ref: "alpine:3", File: "l", Line: 2},
		{Ref: "mirror.example.com/ubuntu:22.04", File: "l", Line: 3},
	}
	_, err := Plan(reqs, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"l:1 (docker.io/library/ubuntu:22.04)", "l:3 (mirror.example.com/ubuntu:22.04)", "ubuntu/ubuntu-22.04.tgz"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	// A user template without the platform makes platforms collide.
	_, err = Plan(reqs[1:2], []v1.Platform{amd64, arm64}, WithKeyTemplate(DefaultKeyTemplate))
	if err == nil || !strings.Contains(err.Error(), "alpine/alpine-3.tgz") {
		t.Errorf("got %v, want duplicate key alpine/alpine-3.tgz", err)
	}
}

func TestPlanErrors(t *testing.T) {
	reqs := []Request{{Ref: "a@sha256:" + strings.Repeat("0", 64), File: "l", Line: 4}, {Ref: "b:1..2", File: "l", Line: 5}}
	_, err := Plan(reqs, nil)
	if err == nil || !strings.Contains(err.Error(), "l:4:") || !strings.Contains(err.Error(), "l:5:") {
		t.Errorf("got %v, want errors for l:4 and l:5", err)
	}
	for _, ps := range [][]v1.Platform{{amd64, amd64}, {{OS: "linux"}}} {
		if _, err := Plan(reqs[:0], ps); err == nil {
			t.Errorf("Plan with platforms %v: no error", ps)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	ps, err := ParsePlatforms([]string{"linux/amd64,linux/arm64/v8", "linux/arm/v7"})
	if err != nil || len(ps) != 3 || ps[1].Variant != "v8" || ps[2].Architecture != "arm" {
		t.Errorf("got %v, %v", ps, err)
	}
	for _, bad := range []string{"linux", "linux/amd64,linux/amd64", "a/b/c/d", ""} {
		if _, err := ParsePlatforms([]string{bad}); err == nil {
			t.Errorf("ParsePlatforms(%q): no error", bad)
		}
	}
}

func TestCollisions(t *testing.T) {
	reqs := []Request{
		{Ref: "ubuntu:22.04", File: "l", Line: 1},
		{Ref: "ubuntu:22.04", AsName: "ubuntu-minimal", File: "l", Line: 2},
		{Ref: "ubuntu:24.04", File: "l", Line: 3},
		{Ref: "tools:1", AsName: "ubuntu-tools", AsVersion: "x", File: "l", Line: 4},
		{Ref: "alpine:3", File: "l", Line: 5},
	}
	flat, err := Plan(reqs, nil, WithKeyTemplate("images/{{.Name}}-{{.Version}}.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	ws := Collisions(flat)
	got := map[string]Warning{}
	for _, w := range ws {
		got[w.Target.Regexp+" "+w.Other.Key] = w
	}
	want := map[string]struct {
		capture string
		valid   bool
	}{
		`images/ubuntu-(.*)\.tgz images/ubuntu-minimal-22.04.tgz`: {"minimal-22.04", true},
		`images/ubuntu-(.*)\.tgz images/ubuntu-tools-x.tgz`:       {"tools-x", true},
	}
	if len(got) != len(want) {
		t.Errorf("got %d warnings, want %d: %v", len(got), len(want), ws)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.Capture != w.capture || g.ValidVersion != w.valid {
			t.Errorf("warning %s: got %+v, want capture %q valid %v", k, g, w.capture, w.valid)
		}
	}
	// The default layout gives every name its own folder: no warnings.
	sep, err := Plan(reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ws := Collisions(sep); len(ws) != 0 {
		t.Errorf("default layout: unexpected warnings %v", ws)
	}
}

func TestCollisionInvalidCapture(t *testing.T) {
	reqs := []Request{
		{Ref: "a:1", AsName: "app", File: "l", Line: 1},
		{Ref: "b:1", AsName: "app--x", File: "l", Line: 2},
	}
	ts, err := Plan(reqs, nil, WithKeyTemplate("{{.Name}}-{{.Version}}.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	ws := Collisions(ts)
	if len(ws) != 1 || ws[0].Capture != "-x-1" || ws[0].ValidVersion {
		t.Fatalf("got %+v, want one invalid capture -x-1", ws)
	}
	if s := ws[0].String(); !strings.Contains(s, "not a valid version") || !strings.Contains(s, "l:1") {
		t.Errorf("warning text %q", s)
	}
}
