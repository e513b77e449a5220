package concourse

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/manifest"
)

func TestRegexpMatchesTheSeries(t *testing.T) {
	tests := []struct {
		key, version string
		same, other  []string
	}{
		{"ubuntu/ubuntu-22.04.tgz", "22.04", []string{"ubuntu/ubuntu-24.04.tgz", "ubuntu/ubuntu-1.2-rc1.tgz"}, []string{"ubuntu/ubuntuX22.04.tgz", "debian/ubuntu-22.04.tgz", "ubuntu/ubuntu-22.04Xtgz"}},
		{"concourse/app/linux-arm64/app-1.0+b1.tgz", "1.0+b1", []string{"concourse/app/linux-arm64/app-2.0.tgz"}, []string{"concourse/app/linux-amd64/app-2.0.tgz"}},
	}
	for _, tt := range tests {
		re := regexp.MustCompile("^" + Regexp(tt.key, tt.version) + "$")
		if m := re.FindStringSubmatch(tt.key); m == nil || m[1] != tt.version {
			t.Errorf("%s: regexp %s captures %v from its own key, want %q", tt.key, re, m, tt.version)
		}
		for _, k := range tt.same {
			if !re.MatchString(k) {
				t.Errorf("%s does not match %s", re, k)
			}
		}
		for _, k := range tt.other {
			if re.MatchString(k) {
				t.Errorf("%s matches %s", re, k)
			}
		}
	}
}

func TestWriteImageResources(t *testing.T) {
	var b bytes.Buffer
	err := WriteImageResources(&b, Target{Bucket: "images", Prefix: "concourse/"}, []manifest.Entry{
		{Path: "images/ubuntu/ubuntu-22.04.tgz", Image: &manifest.Image{Name: "ubuntu", Version: "22.04", Key: "ubuntu/ubuntu-22.04.tgz", Source: "docker.io/library/ubuntu:22.04", Platform: "linux/amd64"}},
		{Path: "notes.txt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"type: s3", "bucket: images", `regexp: 'concourse/ubuntu/ubuntu-(.*)\.tgz'`, "unpack: true", "endpoint: ((s3_endpoint))", "version: {path: 'concourse/ubuntu/ubuntu-22.04.tgz'}"} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "image_resource:") != 1 {
		t.Errorf("want one image_resource (non-image entries skipped):\n%s", out)
	}
}
