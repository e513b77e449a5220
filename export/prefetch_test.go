package export

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// brokenLayer fails its download.
type brokenLayer struct{ v1.Layer }

func (brokenLayer) Compressed() (io.ReadCloser, error) { return nil, errors.New("connection reset") }

// countedLayer counts its downloads.
type countedLayer struct {
	v1.Layer
	n *atomic.Int32
}

func (l countedLayer) Compressed() (io.ReadCloser, error) {
	l.n.Add(1)
	return l.Layer.Compressed()
}

func TestLayerStoreReadsLayersAndReportsFailures(t *testing.T) {
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := random.Layer(100, "application/vnd.docker.image.rootfs.diff.tar.gzip")
	broken, err := mutate.AppendLayers(img, brokenLayer{bad})
	if err != nil {
		t.Fatal(err)
	}
	store, err := newLayerStore(context.Background(), t.TempDir(), 2, []v1.Image{img, broken})
	if err != nil {
		t.Fatal(err)
	}
	defer store.close()
	local, release, err := store.image(img)
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
			t.Errorf("layer %d differs after download", i)
		}
	}
	release()

	local, release, err = store.image(broken)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	layers, _ = local.Layers()
	if err := readLayer(layers[len(layers)-1]); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("broken top layer: err = %v", err)
	}
	if err := readLayer(layers[0]); err != nil {
		t.Fatalf("a good layer of the image with a broken one: %v", err)
	}
}

func readLayer(l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// Images sharing base layers download each blob once, and every blob is
// gone once the last image using it is released.
func TestLayerStoreDownloadsSharedLayersOnce(t *testing.T) {
	var downloads [3]atomic.Int32
	var base []v1.Layer
	for i := range 2 {
		l, _ := random.Layer(2048, "application/vnd.docker.image.rootfs.diff.tar.gzip")
		base = append(base, countedLayer{l, &downloads[i]})
	}
	var imgs []v1.Image
	for range 3 {
		top, _ := random.Layer(512, "application/vnd.docker.image.rootfs.diff.tar.gzip")
		img, err := mutate.AppendLayers(mustEmpty(t), append(append([]v1.Layer{}, base...), countedLayer{top, &downloads[2]})...)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	dir := t.TempDir()
	store, err := newLayerStore(context.Background(), dir, 2, imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		local, release, err := store.image(img)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := local.Layers()
		for _, l := range layers {
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatalf("image %d: %v", i, err)
			}
			io.Copy(io.Discard, rc)
			rc.Close()
		}
		release()
		if i == 0 {
			if left, _ := os.ReadDir(store.dir); len(left) != 2 {
				t.Errorf("after the first image: %d blobs kept, want the 2 shared ones", len(left))
			}
		}
	}
	if left, _ := os.ReadDir(store.dir); len(left) != 0 {
		t.Errorf("blobs left after the last image: %v", left)
	}
	for i := range 2 {
		if n := downloads[i].Load(); n != 1 {
			t.Errorf("shared layer %d downloaded %d times, want once", i, n)
		}
	}
	if n := downloads[2].Load(); n != 3 {
		t.Errorf("the three distinct top layers: %d downloads, want 3", n)
	}
	store.close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind after close: %v", left)
	}
}

func mustEmpty(t *testing.T) v1.Image {
	img, err := random.Image(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
