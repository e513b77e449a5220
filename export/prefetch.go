package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/internal/ctxio"
	"github.com/airlockhq/airlock/internal/stall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// prefetch starts downloading every layer blob of img into dir, up to jobs
// at a time and top layer first (the order mutate.Extract reads them), and
// returns an image that reads its layers from there: reading a layer waits
// only for that layer's download, so fetching the lower layers overlaps
// converting the upper ones. Downloads are checked against their digests
// by go-containerregistry. Call wait before removing dir.
func prefetch(ctx context.Context, img v1.Image, dir string, jobs int) (v1.Image, func(), error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("listing layers: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	local := make([]v1.Layer, len(layers))
	for i, l := range layers {
		local[i] = &fileLayer{remote: l, path: filepath.Join(dir, fmt.Sprintf("layer-%03d", i)), ready: make(chan struct{})}
	}
	// A failed download fails only its own layer (the conversion reports
	// it when it reaches that layer); the others go on until wait.
	var g errgroup.Group
	g.SetLimit(jobs)
	started := make(chan struct{})
	go func() { // starts the downloads top layer first
		defer close(started)
		for i := len(local) - 1; i >= 0; i-- {
			fl := local[i].(*fileLayer)
			if err := ctx.Err(); err != nil {
				fl.err = err
				close(fl.ready)
				continue
			}
			g.Go(func() error {
				fl.err = fetchLayer(ctx, fl.remote, fl.path)
				close(fl.ready)
				return nil
			})
		}
	}()
	wait := func() {
		cancel()
		<-started
		_ = g.Wait() // downloads report through their layers
	}
	return &localImage{Image: img, layers: local}, wait, nil
}

// stallRetries is how often a layer download that stalled halfway starts
// again; a stall before the first byte is retried by go-containerregistry.
const stallRetries = 3

func fetchLayer(ctx context.Context, l v1.Layer, path string) error {
	for attempt := 1; ; attempt++ {
		err := fetchLayerOnce(ctx, l, path)
		var stalled *stall.Error
		if err == nil || !errors.As(err, &stalled) || attempt > stallRetries {
			return err
		}
	}
}

func fetchLayerOnce(ctx context.Context, l v1.Layer, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	digest, err := l.Digest()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("fetching layer %s: %w", digest, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("staging layer %s: %w", digest, err)
	}
	// A writer without ReadFrom, so the copy uses this buffer rather than
	// os.File's generic 32 KiB one: fewer, larger writes.
	_, err = io.CopyBuffer(struct{ io.Writer }{f}, ctxio.Reader(ctx, rc), make([]byte, 1<<20))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching layer %s: %w", digest, err)
	}
	return nil
}

// fileLayer is a registry layer whose blob has been saved to path; its
// digests, size and media type come from the image manifest.
type fileLayer struct {
	remote v1.Layer
	path   string
	ready  chan struct{} // closed when the download ended; err says how
	err    error
}

// await waits for the layer's download.
func (f *fileLayer) await() error {
	<-f.ready
	return f.err
}

func (f *fileLayer) Digest() (v1.Hash, error)            { return f.remote.Digest() }
func (f *fileLayer) DiffID() (v1.Hash, error)            { return f.remote.DiffID() }
func (f *fileLayer) Size() (int64, error)                { return f.remote.Size() }
func (f *fileLayer) MediaType() (types.MediaType, error) { return f.remote.MediaType() }
func (f *fileLayer) Compressed() (io.ReadCloser, error) {
	if err := f.await(); err != nil {
		return nil, err
	}
	return os.Open(f.path)
}

// Uncompressed decompresses with klauspost/compress, which is markedly
// faster than the standard library's gzip that go-containerregistry uses.
func (f *fileLayer) Uncompressed() (io.ReadCloser, error) {
	if err := f.await(); err != nil {
		return nil, err
	}
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
