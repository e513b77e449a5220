package imagetest

import (
	"maps"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Configure returns img with its config edited by edit (env, user,
// entrypoint, cmd, ...). OS and architecture default to linux/amd64.
func Configure(t testing.TB, img v1.Image, edit func(*v1.Config)) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	cf = cf.DeepCopy()
	if cf.OS == "" {
		cf.OS, cf.Architecture = "linux", "amd64"
	}
	edit(&cf.Config)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("setting config: %v", err)
	}
	return img
}

// Index builds an image index from platform ("linux/arm64/v8") to image,
// in platform order. Each image's config gets the platform's OS and
// architecture so the index and the images agree.
func Index(t testing.TB, imgs map[string]v1.Image) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	for _, p := range slices.Sorted(maps.Keys(imgs)) {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatalf("parsing platform %q: %v", p, err)
		}
		img := forPlatform(t, imgs[p], plat)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: plat},
		})
	}
	return idx
}

func forPlatform(t testing.TB, img v1.Image, p *v1.Platform) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("setting platform %s: %v", p, err)
	}
	return img
}
