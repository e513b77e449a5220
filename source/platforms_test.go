package source

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestResolveMixedPlatforms: a list of multi-arch and single-arch images
// with several platforms exports each image for the platforms it has,
// warning about the others (an error with WithStrictPlatforms).
func TestResolveMixedPlatforms(t *testing.T) {
	tr := newTestRegistry(t, false)
	reqs, err := ParseList(strings.NewReader(tr.host+"/multi:2.0\n"+tr.host+"/single:1.0\n"+tr.host+"/armonly:1\n"), "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	var warned []*MissingPlatformsError
	opts := append(testOptions, WithPlatformWarnings(func(e *MissingPlatformsError) { warned = append(warned, e) }))
	ts, err := Resolve(context.Background(), reqs, []v1.Platform{amd64, arm64}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	want := "multi/multi-2.0.tgz multi/linux-arm64-v8/multi-2.0.tgz single/single-1.0.tgz armonly/linux-arm64-v8/armonly-1.tgz"
	if got := keys(ts); got != want {
		t.Errorf("keys %s\nwant %s", got, want)
	}
	if len(warned) != 2 || warned[0].Where != "images.txt:2" || warned[0].Missing[0] != "linux/arm64/v8" ||
		warned[1].Where != "images.txt:3" || warned[1].Missing[0] != "linux/amd64" || !strings.Contains(warned[1].Has, "linux/arm64") {
		t.Errorf("warnings %v", warned)
	}
	_, err = Resolve(context.Background(), reqs, []v1.Platform{amd64, arm64}, append(testOptions, WithStrictPlatforms(true))...)
	var me *MissingPlatformsError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "images.txt:2:") || !strings.Contains(err.Error(), "images.txt:3:") {
		t.Errorf("strict: %v", err)
	}
}
