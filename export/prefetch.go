package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// prefetch downloads every layer blob of img into dir, up to jobs at a
// time, and returns an image that reads its layers from there. Downloads
// are checked against their digests by go-containerregistry. Converting
// then reads local files instead of waiting on the registry layer by layer.
func prefetch(ctx context.Context, img v1.Image, dir string, jobs int) (v1.Image, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	local := make([]v1.Layer, len(layers))
	errs := make([]error, len(layers))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			local[i], errs[i] = fetchLayer(ctx, l, filepath.Join(dir, fmt.Sprintf("layer-%03d", i)))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &localImage{Image: img, layers: local}, nil
}

func fetchLayer(ctx context.Context, l v1.Layer, path string) (v1.Layer, error) {
	digest, err := l.Digest()
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching layer %s: %w", digest, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("staging layer %s: %w", digest, err)
	}
	_, err = io.Copy(f, ctxio.Reader(ctx, rc))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("fetching layer %s: %w", digest, err)
	}
	return &fileLayer{remote: l, path: path}, nil
}

// fileLayer is a registry layer whose blob has been saved to path; its
// digests, size and media type come from the image manifest.
type fileLayer struct {
	remote v1.Layer
	path   string
}

func (f *fileLayer) Digest() (v1.Hash, error)            { return f.remote.Digest() }
func (f *fileLayer) DiffID() (v1.Hash, error)            { return f.remote.DiffID() }
func (f *fileLayer) Size() (int64, error)                { return f.remote.Size() }
func (f *fileLayer) MediaType() (types.MediaType, error) { return f.remote.MediaType() }
func (f *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(f.path) }

// Uncompressed decompresses with klauspost/compress, which is markedly
// faster than the standard library's gzip that go-containerregistry uses.
func (f *fileLayer) Uncompressed() (io.ReadCloser, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	r, err := decompress(file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("layer %s: %w", f.path, err)
	}
	return r, nil
}

// localImage is an image whose layers were fetched to disk.
type localImage struct {
	v1.Image
	layers []v1.Layer
}

func (i *localImage) Layers() ([]v1.Layer, error) { return i.layers, nil }
