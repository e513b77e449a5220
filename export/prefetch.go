package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/airlockhq/airlock/internal/ctxio"
	"github.com/airlockhq/airlock/internal/stall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layerStore downloads the layer blobs of the images a run converts into
// dir, each blob once however many images share it, up to jobs at a time,
// and removes each blob when the last conversion using it is done. An
// image's layers are asked for top layer first (the order rootfs reads
// them), and reading a layer waits only for that layer's download, so
// fetching the lower layers overlaps converting the upper ones. Downloads
// are checked against their digests by go-containerregistry.
type layerStore struct {
	ctx    context.Context // the run's: a download serves every image using it
	cancel context.CancelFunc
	dir    string
	slots  chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	blobs map[v1.Hash]*blob
	uses  map[v1.Hash]int // conversions still to ask for the blob
	n     int             // names the blob files
}

type blob struct {
	path  string
	ready chan struct{} // closed when the download ended; err says how
	err   error
	users int // conversions holding it
	progress
}

// newLayerStore returns a store, in a new folder in parent, for converting
// imgs; call close when done.
func newLayerStore(ctx context.Context, parent string, jobs int, imgs []v1.Image) (*layerStore, error) {
	dir, err := os.MkdirTemp(parent, ".layers-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &layerStore{ctx: ctx, cancel: cancel, dir: dir, slots: make(chan struct{}, jobs),
		blobs: map[v1.Hash]*blob{}, uses: map[v1.Hash]int{}}
	for _, img := range imgs {
		digests, err := layerDigests(img)
		if err != nil {
			s.close()
			return nil, err
		}
		for _, d := range digests {
			s.uses[d]++
		}
	}
	return s, nil
}

// sharedLayers lists the layers more than one of imgs holds: a common base,
// which the conversions walk once (rootfs.LayerMemo).
func sharedLayers(imgs []v1.Image) ([]v1.Hash, error) {
	seen := map[v1.Hash]int{}
	var out []v1.Hash
	for _, img := range imgs {
		ds, err := layerDigests(img)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if seen[d]++; seen[d] == 2 {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// pilots orders the conversions of images sharing layers: the first image
// holding a shared layer (its pilot) converts before the others holding it
// start, so that they find the layer indexed and its members staged
// (rootfs.LayerMemo) instead of doing the same work beside it. An image
// waits only for pilots before it in the list, so no two wait for each
// other.
type pilots struct {
	waitFor [][]int         // by image: the pilots it waits for
	end     []chan struct{} // by image: closed once it is converted (or failed), for pilots
}

func newPilots(imgs []v1.Image, shared []v1.Hash) (*pilots, error) {
	isShared := map[v1.Hash]bool{}
	for _, d := range shared {
		isShared[d] = true
	}
	p := &pilots{waitFor: make([][]int, len(imgs)), end: make([]chan struct{}, len(imgs))}
	pilotOf := map[v1.Hash]int{}
	for i, img := range imgs {
		ds, err := layerDigests(img)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if !isShared[d] {
				continue
			}
			first, ok := pilotOf[d]
			if !ok {
				pilotOf[d] = i
				if p.end[i] == nil {
					p.end[i] = make(chan struct{})
				}
				continue
			}
			if first != i && !slices.Contains(p.waitFor[i], first) {
				p.waitFor[i] = append(p.waitFor[i], first)
			}
		}
	}
	return p, nil
}

// wait returns once the pilots image i waits for are done.
func (p *pilots) wait(ctx context.Context, i int) error {
	if p == nil {
		return nil
	}
	for _, first := range p.waitFor[i] {
		select {
		case <-p.end[first]:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// done says image i is converted, or will not be.
func (p *pilots) done(i int) {
	if p != nil && p.end[i] != nil {
		close(p.end[i])
	}
}

func layerDigests(img v1.Image) ([]v1.Hash, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	out := make([]v1.Hash, len(layers))
	for i, l := range layers {
		if out[i], err = l.Digest(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return out, nil
}

// image returns img reading its layers from the store, starting the
// downloads not yet started; release gives them back.
func (s *layerStore) image(img v1.Image) (v1.Image, func(), error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("listing layers: %w", err)
	}
	digests, err := layerDigests(img)
	if err != nil {
		return nil, nil, err
	}
	local := make([]v1.Layer, len(layers))
	s.mu.Lock()
	for i := len(layers) - 1; i >= 0; i-- {
		local[i] = &fileLayer{remote: layers[i], blob: s.take(layers[i], digests[i])}
	}
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, l := range local {
			s.drop(digests[i], l.(*fileLayer).blob)
		}
	}
	return &localImage{Image: img, layers: local}, release, nil
}

// take hands out d's blob, starting its download if no one holds it.
func (s *layerStore) take(l v1.Layer, d v1.Hash) *blob {
	s.uses[d]-- // below zero for a conversion not counted up front (a retry)
	b := s.blobs[d]
	if b == nil {
		s.n++
		b = &blob{path: filepath.Join(s.dir, fmt.Sprintf("layer-%04d", s.n)), ready: make(chan struct{})}
		b.progress.init()
		s.blobs[d] = b
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(b.ready)
			select {
			case s.slots <- struct{}{}:
				defer func() { <-s.slots }()
				b.err = fetchLayer(s.ctx, l, b)
			case <-s.ctx.Done():
				b.err = s.ctx.Err()
			}
			b.finish(b.err)
		}()
	}
	b.users++
	return b
}

// drop gives d's blob back and removes it once no conversion holds it and
// none still to come asks for it.
func (s *layerStore) drop(d v1.Hash, b *blob) {
	b.users--
	if b.users > 0 || s.uses[d] > 0 {
		return
	}
	delete(s.blobs, d)
	select {
	case <-b.ready:
		os.Remove(b.path)
	default: // a conversion that failed early; once its download stops
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			<-b.ready
			os.Remove(b.path)
		}()
	}
}

// close stops the downloads still running, waits for them and removes
// the store's folder.
func (s *layerStore) close() {
	s.cancel()
	s.wg.Wait()
	os.RemoveAll(s.dir)
}

// stallRetries is how often a layer download that stalled halfway starts
// again; a stall before the first byte is retried by go-containerregistry.
const stallRetries = 3

func fetchLayer(ctx context.Context, l v1.Layer, b *blob) error {
	for attempt := 1; ; attempt++ {
		err := fetchLayerOnce(ctx, l, b)
		var stalled *stall.Error
		if err == nil || !errors.As(err, &stalled) || attempt > stallRetries {
			return err
		}
	}
}

func fetchLayerOnce(ctx context.Context, l v1.Layer, b *blob) error {
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
	b.restart() // the file starts again from nothing
	f, err := os.Create(b.path)
	if err != nil {
		return fmt.Errorf("staging layer %s: %w", digest, err)
	}
	// A writer without ReadFrom, so the copy uses this buffer rather than
	// os.File's generic 32 KiB one: fewer, larger writes.
	_, err = io.CopyBuffer(progressWriter{f, &b.progress}, ctxio.Reader(ctx, rc), make([]byte, 1<<20))
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
	blob   *blob
}

// await waits for the layer's download.
func (f *fileLayer) await() error {
	<-f.blob.ready
	return f.blob.err
}

func (f *fileLayer) Digest() (v1.Hash, error)            { return f.remote.Digest() }
func (f *fileLayer) DiffID() (v1.Hash, error)            { return f.remote.DiffID() }
func (f *fileLayer) Size() (int64, error)                { return f.remote.Size() }
func (f *fileLayer) MediaType() (types.MediaType, error) { return f.remote.MediaType() }
func (f *fileLayer) Compressed() (io.ReadCloser, error) {
	if err := f.await(); err != nil {
		return nil, err
	}
	return os.Open(f.blob.path)
}

// Uncompressed decompresses the blob as it arrives: converting a layer
// overlaps its download. A download that fails, including one whose bytes
// do not match the layer's digest, fails the read at its end; the
// conversion then fails and nothing it wrote is kept.
func (f *fileLayer) Uncompressed() (io.ReadCloser, error) {
	r := &growingReader{path: f.blob.path, p: &f.blob.progress}
	z, err := decompress(r)
	if err != nil {
		r.Close()
		return nil, f.blob.cause(fmt.Errorf("layer %s: %w", f.blob.path, err))
	}
	return downloadCause{z, &f.blob.progress}, nil
}

// downloadCause reports a failed download, rather than what its bytes did
// to the decompressor, as the cause of a read error: bytes that do not
// match the layer's digest usually break the gzip stream first.
type downloadCause struct {
	io.ReadCloser
	p *progress
}

func (d downloadCause) Read(b []byte) (int, error) {
	n, err := d.ReadCloser.Read(b)
	if err != nil && err != io.EOF {
		err = d.p.cause(err)
	}
	return n, err
}

// localImage is an image whose layers were fetched to disk.
type localImage struct {
	v1.Image
	layers []v1.Layer
}

func (i *localImage) Layers() ([]v1.Layer, error) { return i.layers, nil }
