package export

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// brokenLayer fails its download.
type brokenLayer struct{ v1.Layer }

func (brokenLayer) Compressed() (io.ReadCloser, error) { return nil, errors.New("connection reset") }

func TestPrefetchReadsLayersAndReportsFailures(t *testing.T) {
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	local, wait, err := prefetch(context.Background(), img, t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := local.Layers()
	orig, _ := img.Layers()
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, _ := orig[i].Uncompressed()
		wantBytes, _ := io.ReadAll(want)
		if string(got) != string(wantBytes) {
			t.Errorf("layer %d differs after prefetch", i)
		}
	}
	wait()

	bad, _ := random.Layer(100, "application/vnd.docker.image.rootfs.diff.tar.gzip")
	broken, err := mutate.AppendLayers(img, brokenLayer{bad})
	if err != nil {
		t.Fatal(err)
	}
	local, wait, err = prefetch(context.Background(), broken, t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer wait()
	layers, _ = local.Layers()
	if _, err := layers[len(layers)-1].Uncompressed(); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("broken top layer: err = %v", err)
	}
}
