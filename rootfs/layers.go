package rootfs

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerRecord is the PAX record taggedLayer adds to every entry so the
// flattened stream says which layer each entry came from.
const layerRecord = "AIRLOCK.layer"

// taggedImage is an image whose layers tag their entries with layerRecord
// and clean their names before mutate.Extract sees them. They also fix two
// things Extract gets wrong when layers are applied one over the other:
//   - Extract applies a whiteout to the entries after it in its own layer;
//     whiteouts only hide lower layers, so each layer's whiteouts move to
//     its end.
//   - A lower layer's symlink or file hidden by a higher layer's directory
//     of the same name is skipped without hiding what layers below it hold
//     beneath that path; an opaque marker after it does that.
//
// Extract also leaves out, silently, an entry beneath an earlier symlink or
// file of its own layer; the layers note those in shadowed for a warning.
type taggedImage struct {
	v1.Image
	ctx   context.Context
	state *layerState
}

func (ti taggedImage) Layers() ([]v1.Layer, error) {
	layers, err := ti.Image.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	tagged := make([]v1.Layer, len(layers))
	for i, l := range layers {
		tagged[i] = taggedLayer{Layer: l, ctx: ti.ctx, index: i, state: ti.state}
	}
	return tagged, nil
}

// layerState is what the layers learn as Extract reads them: top down, one
// after the other.
type layerState struct {
	mu       sync.Mutex
	above    map[string]struct{} // directories of the layers read so far
	shadowed []shadow            // entries beneath an earlier non-directory of their layer
}

type shadow struct {
	Warning
	parent string // the non-directory
}

func newLayerState() *layerState {
	return &layerState{above: map[string]struct{}{}}
}

type taggedLayer struct {
	v1.Layer
	ctx   context.Context
	index int
	state *layerState
}

// Uncompressed re-tars the layer on the fly; closing the reader stops that.
func (l taggedLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Uncompressed()
	if err != nil {
		return nil, layerError(l.Layer, l.index, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(l.retag(rc, pw)) }()
	return pr, nil
}

func (l taggedLayer) retag(rc io.ReadCloser, w io.Writer) error {
	defer rc.Close()
	// Layers are read one at a time; the lock only orders this layer's
	// reads and writes of the set after those of the layers above.
	l.state.mu.Lock()
	defer l.state.mu.Unlock()
	r := ctxio.Reader(l.ctx, rc)
	tr := tar.NewReader(r)
	// Hand data to the pipe a MiB at a time, not per 32 KiB tar write.
	bw := bufio.NewWriterSize(w, 1<<20)
	rt := retagger{tw: tar.NewWriter(bw), index: l.index, tag: strconv.Itoa(l.index),
		state: l.state, nondirs: map[string]byte{}}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = rt.copyEntry(tr, hdr)
		}
		if err != nil {
			return layerError(l.Layer, l.index, err)
		}
	}
	// Read to the end so the layer's digest gets verified, as Extract does.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return layerError(l.Layer, l.index, err)
	}
	if err := rt.finish(); err != nil {
		return err
	}
	return bw.Flush()
}

type retagger struct {
	tw        *tar.Writer
	index     int
	tag       string
	state     *layerState
	dirs      []string        // directories of this layer
	nondirs   map[string]byte // other entries of this layer, with their type
	whiteouts []*tar.Header
}

func (rt *retagger) copyEntry(tr *tar.Reader, hdr *tar.Header) error {
	keep, err := normalize(hdr)
	if !keep || err != nil {
		return err
	}
	base := path.Base(hdr.Name)
	if strings.HasPrefix(base, ".wh.") && base != ".wh..wh..opq" {
		hdr.Size = 0
		rt.whiteouts = append(rt.whiteouts, hdr)
		return nil
	}
	for d := parent(hdr.Name); d != "" && len(rt.nondirs) > 0; d = parent(d) {
		if typ, ok := rt.nondirs[d]; ok {
			rt.state.shadowed = append(rt.state.shadowed, shadow{parent: d, Warning: Warning{Layer: rt.index, Path: hdr.Name,
				Reason: fmt.Sprintf("its parent /%s is a %s of the same layer", d, typeName(state{kind: written, typ: typ}))}})
			break
		}
	}
	if err := rt.write(hdr, tr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		rt.dirs = append(rt.dirs, hdr.Name)
		return nil
	}
	rt.nondirs[hdr.Name] = hdr.Typeflag
	if _, ok := rt.state.above[hdr.Name]; ok {
		return rt.write(&tar.Header{
			Name: hdr.Name + "/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644, ModTime: hdr.ModTime,
		}, nil)
	}
	return nil
}

func (rt *retagger) write(hdr *tar.Header, content io.Reader) error {
	hdr.PAXRecords = map[string]string{layerRecord: rt.tag}
	hdr.Format = tar.FormatPAX
	if err := rt.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Size == 0 {
		return nil
	}
	_, err := io.Copy(rt.tw, content)
	return err
}

// finish writes the layer's whiteouts and ends its tar.
func (rt *retagger) finish() error {
	for _, hdr := range rt.whiteouts {
		if err := rt.write(hdr, nil); err != nil {
			return err
		}
	}
	for _, d := range rt.dirs {
		rt.state.above[d] = struct{}{}
	}
	return rt.tw.Close()
}

// normalize cleans the names of an entry read from a layer. It reports
// false for entries to skip: global headers, the root directory, and
// hardlinks pointing outside the image, which Extract drops too.
func normalize(hdr *tar.Header) (bool, error) {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return false, nil
	}
	if hdr.Typeflag == tar.TypeGNUSparse {
		hdr.Typeflag = tar.TypeReg // tar.Reader already expanded the holes
	}
	name, err := cleanPath(hdr.Name)
	if err != nil {
		return false, fmt.Errorf("entry %q: %w", hdr.Name, err)
	}
	hdr.Name = name
	if hdr.Typeflag != tar.TypeReg {
		hdr.Size = 0
	}
	if hdr.Typeflag == tar.TypeLink {
		if hdr.Linkname, err = cleanPath(hdr.Linkname); err != nil {
			return false, nil
		}
	}
	return name != "", nil
}

// cleanPath returns name relative to the image root: "a", "./a/" and "/a"
// all give "a", the root gives "". Paths climbing out of the root are errors.
func cleanPath(name string) (string, error) {
	c := strings.TrimLeft(path.Clean(name), "/")
	if c == "." {
		return "", nil
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.New("path leaves the image root")
	}
	return c, nil
}

func layerOf(hdr *tar.Header) (int, error) {
	n, err := strconv.Atoi(hdr.PAXRecords[layerRecord])
	if err != nil {
		return 0, fmt.Errorf("entry %q: no layer tag", hdr.Name)
	}
	return n, nil
}

func layerError(l v1.Layer, index int, err error) error {
	d, derr := l.Digest()
	if derr != nil {
		return fmt.Errorf("layer %d: %w", index, err)
	}
	return fmt.Errorf("layer %d (%s): %w", index, d, err)
}
