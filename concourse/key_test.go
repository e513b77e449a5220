package concourse

import (
	"strings"
	"testing"
)

var (
	amd64 = KeyData{OS: "linux", Arch: "amd64", Platform: "linux/amd64"}
	arm64 = KeyData{OS: "linux", Arch: "arm64", Variant: "v8", Platform: "linux/arm64/v8"}
)

func keyData(name, version string, p KeyData) KeyData {
	p.Name, p.Version = name, version
	return p
}

func TestKeyTemplate(t *testing.T) {
	tests := []struct {
		tmpl, key, re string
		d             KeyData
	}{
		{DefaultKeyTemplate, "ubuntu/ubuntu-22.04.tgz", `ubuntu/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", amd64)},
		{MultiPlatformKeyTemplate, "ubuntu/linux-amd64/ubuntu-22.04.tgz", `ubuntu/linux-amd64/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", amd64)},
		{MultiPlatformKeyTemplate, "ubuntu/linux-arm64-v8/ubuntu-22.04.tgz", `ubuntu/linux-arm64-v8/ubuntu-(.*)\.tgz`, keyData("ubuntu", "22.04", arm64)},
		{"{{.Name}}/{{.Version}}/rootfs.tar.gz", "ubuntu/1.2+b/rootfs.tar.gz", `ubuntu/(.*)/rootfs\.tar\.gz`, keyData("ubuntu", "1.2+b", amd64)},
		{"{{.Name}}/{{.Platform}}/{{.Name}}-{{.Version}}.tgz", "x/linux/arm64/v8/x-1.tgz", `x/linux/arm64/v8/x-(.*)\.tgz`, keyData("x", "1", arm64)},
		// The version also occurs in the name: only the {{.Version}} level is captured.
		{"{{.Name}}/{{.Version}}/{{.Name}}.tgz", "app1/1/app1.tgz", `app1/(.*)/app1\.tgz`, keyData("app1", "1", amd64)},
		{"{{.Name}}/{{.Version}}/{{.Name}}-{{.Version}}.tgz", "a/1.0/a-1.0.tgz", `a/(.*)/a-(.*)\.tgz`, keyData("a", "1.0", amd64)},
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
		"":                                       "empty key",
		"images/{{.Name}}-{{.Version}}.tgz":      "not inside the folder name/",
		"{{.Version}}/{{.Name}}.tgz":             "not inside the folder name/",
		".airlock/{{.Name}}/{{.Version}}.tgz":    "starting with \".\"",
		"{{.Name}}/.airlock/{{.Version}}.tgz":    "starting with \".\"",
		"{{.Name}}/.{{.Version}}.tgz":            "starting with \".\"",
		"{{.Name}}/{{.Version}}{{.Version}}.tgz": "reads version \"1.01.0\"",
	}
	for tmpl, want := range bad {
		_, err := ParseKeyTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeyTemplate(%q) = %v, want error containing %q", tmpl, err, want)
		}
	}
}
