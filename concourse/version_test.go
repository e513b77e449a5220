package concourse

import (
	"strings"
	"testing"
)

func TestValidateVersion(t *testing.T) {
	good := []string{
		"22.04", "1.2.3-alpine", "latest", "3.19.1_r0", "1", "0", "04",
		"1.2.3+build.5", "1.2.3-rc.1+b2", "2024.01.15", "v1.2", "1-a-b", "1.2-a.b-c",
		"9223372036854775807", strings.Repeat("a", 128),
	}
	for _, v := range good {
		if err := ValidateVersion(v); err != nil {
			t.Errorf("ValidateVersion(%q) = %v, want nil", v, err)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"1..2":                   "empty component",
		"1.":                     "empty component",
		".1":                     "empty component",
		"1.2-a..b":               "empty component",
		"1.2+.x":                 "empty component",
		"v1:2":                   "contains",
		"sha256:abc":             "digest",
		"x@sha256":               "contains",
		"1.2-":                   "ends in",
		"1.2-a-":                 "ends in",
		"-1":                     "want RELEASE",
		"1+2+3":                  "want RELEASE",
		"1 2":                    "want RELEASE",
		"1/2":                    "want RELEASE",
		"é":                      "want RELEASE",
		"99999999999999999999":   "too large",
		strings.Repeat("a", 129): "longer",
	}
	for v, want := range bad {
		err := ValidateVersion(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateVersion(%q) = %v, want error containing %q", v, err, want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, n := range []string{"ubuntu", "ubuntu-minimal", "a", "node_20", "x.y", "0"} {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range []string{"", "Ubuntu", "a/b", "-a", "a-", ".", "..", ".a", "a b", "a:b", strings.Repeat("a", 129)} {
		if err := ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q) = nil, want error", n)
		}
	}
}

// The order is the S3 resource's (go-semi-semantic), quirks included.
func TestSortVersions(t *testing.T) {
	vs := []string{"latest", "1.10", "22.04", "1.2.3", "1.2.3-alpine", "22.10", "1.9", "1.2.3+b1", "2"}
	if err := SortVersions(vs); err != nil {
		t.Fatal(err)
	}
	want := "1.2.3-alpine 1.2.3 1.2.3+b1 1.9 1.10 2 22.10 22.04 latest"
	if got := strings.Join(vs, " "); got != want {
		t.Errorf("sorted: %s\nwant:   %s", got, want)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.0", "1", 0}, {"1.2-rc.1", "1.2-rc.2", -1}, {"v2", "10", 1}, {"1.2-a-", "1.2", -1}} {
		if got, err := CompareVersions(c.a, c.b); err != nil || got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	bad := []string{"1.0", "1..2"}
	if err := SortVersions(bad); err == nil || !strings.Contains(err.Error(), "1..2") || bad[1] != "1..2" {
		t.Errorf("SortVersions with an invalid version: %v, %v", err, bad)
	}
}

func TestFloating(t *testing.T) {
	for v, want := range map[string]bool{
		"latest": true, "stable": true, "alpine": true, "v2": true, "v1.2.3": true, "04": true, "edge-1": true,
		"1": false, "0": false, "22.04": false, "1.2.3-alpine": false, "3.19.1_r0": false, "2024.01.15": false, "1.2.3+build.5": false,
	} {
		if got := IsFloating(v); got != want {
			t.Errorf("IsFloating(%q) = %v, want %v", v, got, want)
		}
	}
}
