package imagetest_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/airlockhq/airlock/internal/imagetest"
)

func TestPushAndPullBack(t *testing.T) {
	host := imagetest.Registry(t)
	img := imagetest.EdgeCase(t)
	ref := imagetest.Push(t, host+"/edge:v1", img)

	pulled, err := remote.Image(mustParse(t, ref))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if got, want := digest(t, pulled), digest(t, img); got != want {
		t.Errorf("pulled %s, pushed %s", got, want)
	}
	cf, err := pulled.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "1000:1000" || len(cf.Config.Env) != 2 || cf.OS != "linux" {
		t.Errorf("config not kept: %+v", cf)
	}
	if layers, _ := pulled.Layers(); len(layers) != 3 {
		t.Errorf("%d layers, want 3", len(layers))
	}
}

func TestIndexPlatforms(t *testing.T) {
	host := imagetest.Registry(t)
	amd := imagetest.Image(t, []imagetest.File{{Name: "arch", Body: "amd64"}})
	arm := imagetest.Image(t, []imagetest.File{{Name: "arch", Body: "arm64"}})
	ref := imagetest.PushIndex(t, host+"/multi:v1", imagetest.Index(t, map[string]v1.Image{
		"linux/arm64/v8": arm, "linux/amd64": amd,
	}))

	idx, err := remote.Index(mustParse(t, ref))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Platform().String() != d.Platform.String() {
			t.Errorf("image config says %s, index says %s", cf.Platform(), d.Platform)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64/v8"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("platforms %v, want %v", got, want)
	}
}

func mustParse(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
