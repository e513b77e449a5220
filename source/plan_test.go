package source

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/concourse"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

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
	// The first platform keeps the single-platform key, so pipelines keep matching.
	want := "ubuntu/ubuntu-22.04.tgz ubuntu/linux-arm64-v8/ubuntu-22.04.tgz " +
		"alpine/alpine-3.19.tgz alpine/linux-arm64-v8/alpine-3.19.tgz"
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
	_, err = Plan(reqs[1:2], []v1.Platform{amd64, arm64}, WithKeyTemplate(concourse.DefaultKeyTemplate))
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

// Keys of one name share its folder; a template that leaves the platform
// out of one key makes that series' regexp match another platform's key.
func TestCollisions(t *testing.T) {
	reqs := []Request{{Ref: "ubuntu:22.04", File: "l", Line: 1}}
	two := []v1.Platform{amd64, arm64}
	ts, err := Plan(reqs, two, WithKeyTemplate("{{.Name}}/{{.Name}}-{{.Version}}{{if .Variant}}-{{.Variant}}{{end}}.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	ws := Collisions(ts)
	if len(ws) != 1 || ws[0].Target.Regexp != `ubuntu/ubuntu-(.*)\.tgz` || ws[0].Other.Key != "ubuntu/ubuntu-22.04-v8.tgz" ||
		ws[0].Capture != "22.04-v8" || !ws[0].ValidVersion {
		t.Errorf("got %+v, want one valid capture 22.04-v8", ws)
	}
	// The default layouts keep series apart: no warnings.
	for _, ps := range [][]v1.Platform{nil, two} {
		sep, err := Plan(append(reqs, Request{Ref: "ubuntu:22.04", AsName: "ubuntu-minimal", File: "l", Line: 2}), ps)
		if err != nil {
			t.Fatal(err)
		}
		if ws := Collisions(sep); len(ws) != 0 {
			t.Errorf("default layout: unexpected warnings %v", ws)
		}
	}
}

func TestCollisionInvalidCapture(t *testing.T) {
	reqs := []Request{{Ref: "a:1", AsName: "app", File: "l", Line: 1}}
	ts, err := Plan(reqs, []v1.Platform{amd64, arm64}, WithKeyTemplate("{{.Name}}/{{.Version}}{{if .Variant}}-{{end}}.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	ws := Collisions(ts)
	if len(ws) != 1 || ws[0].Capture != "1-" || ws[0].ValidVersion {
		t.Fatalf("got %+v, want one invalid capture 1-", ws)
	}
	if s := ws[0].String(); !strings.Contains(s, "not a valid version") || !strings.Contains(s, "l:1") {
		t.Errorf("warning text %q", s)
	}
}

// Plan is plan with the targets in one list, for tests of the offline checks.
func Plan(reqs []Request, platforms []v1.Platform, opts ...Option) ([]Target, error) {
	groups, err := plan(reqs, platforms, makeOptions(opts))
	if err != nil {
		return nil, err
	}
	var ts []Target
	for _, g := range groups {
		ts = append(ts, g...)
	}
	return ts, nil
}

func TestPlanRefusesFloatingVersions(t *testing.T) {
	reqs := []Request{{Ref: "registry.example/small:latest", Line: 1}, {Ref: "registry.example/tiny", Line: 2},
		{Ref: "registry.example/big:1.0", AsName: "big", AsVersion: "stable", Line: 3}, {Ref: "registry.example/ok:1.2", Line: 4}}
	_, err := Plan(reqs, nil)
	var fe *FloatingVersionError
	if !errors.As(err, &fe) || fe.Version != "latest" || strings.Count(err.Error(), "does not start with a number") != 3 {
		t.Fatalf("Plan = %v, want three *FloatingVersionError", err)
	}
	if _, err := Plan(reqs, nil, WithFloatingVersions(true)); err != nil {
		t.Fatalf("Plan with floating versions allowed: %v", err)
	}
}
