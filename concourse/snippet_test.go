package concourse

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLevelsMatchTheSeries(t *testing.T) {
	tests := []struct {
		re, key, version string
		same, other      []string
	}{
		{`ubuntu/ubuntu-(.*)\.tgz`, "ubuntu/ubuntu-22.04.tgz", "22.04", []string{"ubuntu/ubuntu-24.04.tgz", "ubuntu/ubuntu-1.2-rc1.tgz"},
			[]string{"ubuntu/ubuntuX22.04.tgz", "debian/ubuntu-22.04.tgz", "ubuntu/ubuntu-22.04Xtgz", "x/ubuntu/ubuntu-1.tgz", "ubuntu/x/ubuntu-1.tgz"}},
		{`app/linux-arm64/app-(.*)\.tgz`, "app/linux-arm64/app-1.0+b1.tgz", "1.0+b1", []string{"app/linux-arm64/app-2.0.tgz"}, []string{"app/linux-amd64/app-2.0.tgz"}},
		// The resource reads the group named version when there are several.
		{`app/(x|y)-(?P<version>.*)\.tgz`, "app/x-1.2.tgz", "1.2", []string{"app/y-3.tgz"}, []string{"app/z-3.tgz"}},
	}
	for _, tt := range tests {
		if err := CheckRegexp(tt.re, tt.key, tt.version); err != nil {
			t.Errorf("CheckRegexp: %v", err)
		}
		l, err := CompileLevels(tt.re)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range tt.same {
			if _, ok := l.Match(k); !ok {
				t.Errorf("%s does not match %s", tt.re, k)
			}
		}
		for _, k := range tt.other {
			if _, ok := l.Match(k); ok {
				t.Errorf("%s matches %s", tt.re, k)
			}
		}
	}
	for re, want := range map[string]string{
		`app/app-1\.tgz`:       "no group",
		`app/app-(.*)\.tar`:    "does not match",
		`app/(.*)-1\.2\.tgz`:   `reads version "app"`,
		`app/app-(.*\.tgz`:     "missing closing )",
		`(.*)/app-(.*)\.tgz`:   `reads version "app"`,
		`app/app-(1)(.*)\.tgz`: `reads version "1"`,
	} {
		if err := CheckRegexp(re, "app/app-1.2.tgz", "1.2"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRegexp(%s) = %v, want error containing %q", re, err, want)
		}
	}
}

func TestDeriveRegexp(t *testing.T) {
	for _, tt := range []struct{ key, re string }{
		{"ubuntu/ubuntu-22.04.tgz", `ubuntu/ubuntu-(.*)\.tgz`},
		{"app1/linux-arm64-v8/app1-1.tgz", `app1/linux-arm64-v8/app1-(.*)\.tgz`},
		{"app/x/1.tgz", `app/x/(.*)\.tgz`},
	} {
		d := keyData(strings.SplitN(tt.key, "/", 2)[0], "1", arm64)
		if strings.HasPrefix(tt.key, "ubuntu") {
			d.Version = "22.04"
		}
		if re, err := DeriveRegexp(tt.key, d); err != nil || re != tt.re {
			t.Errorf("DeriveRegexp(%s) = %s, %v; want %s", tt.key, re, err, tt.re)
		}
	}
	if re, err := DeriveRegexp("app1/1/app1.tgz", keyData("app1", "1", amd64)); err == nil || !strings.Contains(err.Error(), "occurs 3 times") {
		t.Errorf("ambiguous key: %s, %v", re, err)
	}
}

func TestWriteImageResources(t *testing.T) {
	images := []Image{
		{Name: "ubuntu", Version: "22.04", Key: "ubuntu/ubuntu-22.04.tgz", Regexp: `ubuntu/ubuntu-(.*)\.tgz`, Source: "docker.io/library/ubuntu:22.04", Platform: "linux/amd64"},
		{Name: "app1", Version: "1", Key: "app1/1/app1.tgz", Regexp: `app1/(.*)/app1\.tgz`},
	}
	for _, tt := range []struct {
		mode    VersionMode
		comment string
		pinned  bool
	}{
		{"", "follows the series: " + FollowEffect, false},
		{FollowVersions, "follows the series: " + FollowEffect, false},
		{PinVersions, "pinned: a newer import changes nothing, " + PinEffect, true},
	} {
		var b bytes.Buffer
		if err := WriteImageResources(&b, Target{Bucket: "images", Prefix: "concourse/", Versions: tt.mode}, images); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"# ubuntu 22.04 from docker.io/library/ubuntu:22.04 (linux/amd64); " + tt.comment + "\nimage_resource:",
			"type: s3", "bucket: images", `regexp: 'concourse/ubuntu/ubuntu-(.*)\.tgz'`, "unpack: true", "endpoint: ((s3_endpoint))",
			`regexp: 'concourse/app1/(.*)/app1\.tgz'`} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: snippet lacks %q:\n%s", tt.mode, want, out)
			}
		}
		if pin := "version: {path: 'concourse/ubuntu/ubuntu-22.04.tgz'}"; strings.Contains(out, pin) != tt.pinned ||
			strings.Count(out, "version:") != 2*btoi(tt.pinned) {
			t.Errorf("%q: pinned is %v, want %v:\n%s", tt.mode, strings.Contains(out, pin), tt.pinned, out)
		}
		if strings.Count(out, "image_resource:") != 2 {
			t.Errorf("want two image_resources:\n%s", out)
		}
	}
	if m, err := ParseVersionMode("pin"); err != nil || m != PinVersions {
		t.Errorf("ParseVersionMode(pin) = %q, %v", m, err)
	}
	if _, err := ParseVersionMode("latest"); err == nil {
		t.Error("ParseVersionMode accepts an unknown mode")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Whatever a signed manifest or the command line holds, the snippet keeps
// its structure and carries the values verbatim.
func TestWriteImageResourcesHostile(t *testing.T) {
	hostile := []string{
		"x\nprivileged: true", "x'\n  privileged: true\n#", `"x": y`, "a: b # c", "x\r\nprivileged: true",
		"'", `\`, "{{.x}}", "- a", "&a *a !!str", "\u2028privileged: true", "((s3_secret_access_key))",
	}
	for _, h := range hostile {
		tg := Target{Bucket: h, Prefix: h + "/", Region: h, Versions: PinVersions}
		im := Image{Name: h, Version: h, Source: h, Platform: h, Key: h, Regexp: h}
		var b bytes.Buffer
		if err := WriteImageResources(&b, tg, []Image{im}); err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(&b)
		var doc struct {
			ImageResource struct {
				Type    string            `yaml:"type"`
				Source  map[string]string `yaml:"source"`
				Version map[string]string `yaml:"version"`
				Params  map[string]bool   `yaml:"params"`
			} `yaml:"image_resource"`
		}
		var raw map[string]any
		text := b.String()
		if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
			t.Fatalf("%q: snippet does not parse: %v\n%s", h, err, text)
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
			t.Errorf("%q: more than one document: %v\n%s", h, err, text)
		}
		ir := doc.ImageResource
		if len(raw) != 1 || raw["image_resource"] == nil || len(raw["image_resource"].(map[string]any)) != 4 {
			t.Errorf("%q: structure changed:\n%s", h, text)
		}
		wantSource := map[string]string{"bucket": h, "regexp": regexp.QuoteMeta(h+"/") + h, "endpoint": "((s3_endpoint))",
			"access_key_id": "((s3_access_key_id))", "secret_access_key": "((s3_secret_access_key))", "region_name": h}
		if ir.Type != "s3" || len(ir.Source) != len(wantSource) || len(ir.Version) != 1 || ir.Version["path"] != h+"/"+h ||
			len(ir.Params) != 1 || !ir.Params["unpack"] {
			t.Errorf("%q: got %+v\n%s", h, ir, text)
		}
		for k, v := range wantSource {
			if ir.Source[k] != v {
				t.Errorf("%q: source.%s = %q, want %q", h, k, ir.Source[k], v)
			}
		}
		if lines := strings.SplitN(text, "\n", 3); !strings.HasPrefix(lines[0], "# ") || lines[1] != "image_resource:" {
			t.Errorf("%q: the comment is not one line before image_resource:\n%s", h, text)
		}
	}
}

func TestSnippetSourceFields(t *testing.T) {
	tg := Target{Bucket: "images", Region: "eu-west-3", PathStyle: true, CABundle: true, Versions: PinVersions}
	ims := []Image{
		{Name: "app", Version: "1.0", Key: "app/app-1.0.tgz", Regexp: `app/app-(.*)\.tgz`, Platform: "linux/amd64"},
		{Name: "app", Version: "1.0", Key: "app/linux-arm64/app-1.0.tgz", Regexp: `app/linux-arm64/app-(.*)\.tgz`, Platform: "linux/arm64"},
	}
	for _, st := range []Style{ImageResourceStyle, ResourceStyle} {
		var b bytes.Buffer
		if err := WriteSnippets(&b, st, tg, ims); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"use_path_style: true", "region_name: eu-west-3", "ca_bundle: ((s3_ca_bundle))"} {
			if strings.Count(out, want) != 2 {
				t.Errorf("%s: want %q twice:\n%s", st, want, out)
			}
		}
		if st == ResourceStyle {
			for _, want := range []string{"- name: app-linux-amd64\n", "- name: app-linux-arm64\n", "- get: app-linux-arm64\n",
				"params: {unpack: true}", "image: app-linux-amd64\n", "version: {path: 'app/linux-arm64/app-1.0.tgz'}"} {
				if !strings.Contains(out, want) {
					t.Errorf("resource style lacks %q:\n%s", want, out)
				}
			}
		}
	}
	var b bytes.Buffer
	if err := WriteImageResources(&b, Target{Bucket: "images"}, ims[:1]); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "use_path_style") || strings.Contains(out, "ca_bundle") || strings.Contains(out, "region_name") {
		t.Errorf("fields that were not asked for:\n%s", out)
	}
	if _, err := ParseStyle("pipeline"); err == nil {
		t.Error("ParseStyle accepts an unknown style")
	}
}

// A bundle without images (only carried evidence) gets no snippet, not an
// error.
func TestNoImagesNoSnippet(t *testing.T) {
	for _, write := range []func(io.Writer, Target, []Image) error{WriteImageResources, WriteResources} {
		var b bytes.Buffer
		if err := write(&b, Target{Bucket: "images"}, nil); err != nil || b.Len() != 0 {
			t.Fatalf("no images: wrote %q, err %v; want nothing", b.String(), err)
		}
	}
}
