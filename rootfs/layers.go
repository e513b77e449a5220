package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// walker applies an image's layers by path, top layer first, as
// go-containerregistry's mutate.Extract does, and hands every entry that
// survives to visit in flattening order, straight from the layer's tar:
// one tar decode per layer and no goroutine in between. It fixes two
// things Extract gets wrong when layers are applied one over the other:
//   - Extract applies a whiteout to the entries after it in its own layer;
//     whiteouts only hide lower layers, so each layer's whiteouts count at
//     its end.
//   - A lower layer's symlink or file hidden by a higher layer's directory
//     of the same name is skipped without hiding what layers below it hold
//     beneath that path; it makes that path opaque for the layers below.
//
// Extract also leaves out, silently, an entry beneath an earlier symlink or
// file of its own layer; the walker notes those in shadowed for a warning.
type walker struct {
	ctx   context.Context
	visit func(hdr *tar.Header, layer int, content io.Reader) error

	handled  map[string]bool     // paths met so far; true: nothing beneath them from lower layers
	opaque   map[string]bool     // directories a higher layer made opaque
	above    map[string]struct{} // directories of the layers read so far
	shadowed []shadow            // entries beneath an earlier non-directory of their layer

	memo    *LayerMemo     // indexes shared layers and replays indexed ones; may be nil
	cursors []*layerCursor // of the replayed layers: runs may read from them until the tar ends
}

type shadow struct {
	Warning
	parent string // the non-directory
}

func newWalker(ctx context.Context, visit func(*tar.Header, int, io.Reader) error) *walker {
	return &walker{ctx: ctx, visit: visit,
		handled: map[string]bool{}, opaque: map[string]bool{}, above: map[string]struct{}{}}
}

func (w *walker) walk(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := w.layer(layers[i], i); err != nil {
			return err
		}
	}
	return nil
}

// layerWalk is what the walker learns about the layer it reads.
type layerWalk struct {
	index     int
	dirs      []string        // directories of this layer
	nondirs   map[string]byte // other entries of this layer, with their type
	whiteouts []*tar.Header
	opaque    map[string]bool // directories this layer makes opaque for lower ones
}

func (w *walker) layer(l v1.Layer, index int) error {
	var build *layerIndex
	var digest v1.Hash
	if w.memo != nil {
		var err error
		if digest, err = l.Digest(); err == nil {
			idx, shared := w.memo.index(digest)
			if idx != nil {
				return w.replay(l, index, idx)
			}
			if shared {
				build = &layerIndex{}
			}
		}
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("flattening image: %w", layerError(l, index, err))
	}
	defer rc.Close()
	r := ctxio.Reader(w.ctx, rc)
	tr := tar.NewReader(r)
	lw := newLayerWalk(index)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			var ref *fileRef
			if build != nil {
				e := indexEntry{hdr: *hdr}
				if regular(hdr) {
					ref = &fileRef{}
					e.ref = ref
				}
				build.entries = append(build.entries, e)
			}
			err = w.entry(lw, hdr, tr, ref, false)
		}
		var ee *entryError
		if errors.As(err, &ee) {
			return ee.err
		}
		if err != nil {
			return fmt.Errorf("flattening image: %w", layerError(l, index, err))
		}
	}
	// Read to the end so the layer's digest gets verified.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("flattening image: %w", layerError(l, index, err))
	}
	if build != nil {
		w.memo.publish(digest, build)
	}
	return w.layerDone(lw)
}

func newLayerWalk(index int) *layerWalk {
	return &layerWalk{index: index, nondirs: map[string]byte{}, opaque: map[string]bool{}}
}

// regular reports whether an entry as read has file content.
func regular(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeGNUSparse
}

// replay walks layer l from its index, as layer does from its bytes:
// files with a known sum are handed on virtual (their bytes read only if
// a run needs them, from a cursor over the layer); the others are read
// from the cursor as they are written.
func (w *walker) replay(l v1.Layer, index int, idx *layerIndex) error {
	cur := &layerCursor{layer: l, index: index, ctx: w.ctx}
	w.cursors = append(w.cursors, cur)
	lw := newLayerWalk(index)
	for i := range idx.entries {
		e := &idx.entries[i]
		hdr := e.hdr
		var content io.Reader = eof{}
		var ref *fileRef
		virtual := false
		if e.ref != nil {
			content = &lazyContent{cur: cur, i: i, name: e.hdr.Name, size: e.hdr.Size, ref: e.ref}
			ref, virtual = e.ref, e.ref.done
			if !virtual {
				ref = &fileRef{}
			}
		}
		err := w.entry(lw, &hdr, content, ref, virtual)
		var ee *entryError
		if errors.As(err, &ee) {
			return ee.err
		}
		if err != nil {
			return fmt.Errorf("flattening image: %w", layerError(l, index, err))
		}
	}
	w.memo.Replayed.Add(1)
	return w.layerDone(lw)
}

type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// layerDone applies what a layer's walk learnt once the layer is over.
func (w *walker) layerDone(lw *layerWalk) error {
	for _, hdr := range lw.whiteouts {
		if err := w.apply(lw, hdr, nil); err != nil {
			return err
		}
	}
	for _, d := range lw.dirs {
		w.above[d] = struct{}{}
	}
	for d := range lw.opaque {
		w.opaque[d] = true
	}
	return nil
}

// entryError carries an error that is not the layer's fault (the
// flattener's writes, an unsafe name) past the layer's error wrapping.
type entryError struct{ err error }

func (e *entryError) Error() string { return e.err.Error() }

// contentReader remembers a failure to read an entry's content from its
// layer. With a LayerMemo, ref is the file it is, and virtual says its
// bytes need not be read (see LayerMemo).
type contentReader struct {
	r       io.Reader
	err     error
	ref     *fileRef
	virtual bool
}

func (c *contentReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

func (w *walker) entry(lw *layerWalk, hdr *tar.Header, content io.Reader, ref *fileRef, virtual bool) error {
	keep, err := normalize(hdr)
	if !keep || err != nil {
		return err
	}
	base := path.Base(hdr.Name)
	if strings.HasPrefix(base, whiteoutPrefix) && base != opaqueMarker {
		hdr.Size = 0
		lw.whiteouts = append(lw.whiteouts, hdr)
		return nil
	}
	for d := parent(hdr.Name); d != "" && len(lw.nondirs) > 0; d = parent(d) {
		if typ, ok := lw.nondirs[d]; ok {
			w.shadowed = append(w.shadowed, shadow{parent: d, Warning: Warning{Layer: lw.index, Path: hdr.Name,
				Reason: fmt.Sprintf("its parent /%s is a %s of the same layer", d, typeName(state{kind: written, typ: typ}))}})
			break
		}
	}
	cr := &contentReader{r: content, ref: ref, virtual: virtual}
	if err := w.apply(lw, hdr, cr); err != nil {
		if cr.err != nil { // the layer's fault, not the writer's
			return cr.err
		}
		return &entryError{err}
	}
	if hdr.Typeflag == tar.TypeDir {
		lw.dirs = append(lw.dirs, hdr.Name)
		return nil
	}
	lw.nondirs[hdr.Name] = hdr.Typeflag
	if _, ok := w.above[hdr.Name]; ok {
		lw.opaque[hdr.Name] = true
	}
	return nil
}

// apply is mutate.Extract's rule for one entry of a layer: it hands the
// entry to visit unless a higher layer has it or hides it.
func (w *walker) apply(lw *layerWalk, hdr *tar.Header, content io.Reader) error {
	if unsafeName(hdr.Name) {
		return fmt.Errorf("flattening image: unsafe tar path %q", hdr.Name)
	}
	if (hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink) && leavesRoot(hdr.Name, hdr.Linkname) {
		return nil
	}
	dir, base := path.Dir(hdr.Name), path.Base(hdr.Name)
	if base == opaqueMarker {
		lw.opaque[dir] = true
		return nil
	}
	tombstone := strings.HasPrefix(base, whiteoutPrefix)
	name := hdr.Name
	if hdr.Typeflag != tar.TypeDir { // as Extract: a directory named .wh.x hides nothing
		name = path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
	}
	if _, ok := w.handled[name]; ok && !tombstone {
		return nil
	}
	if w.hidden(name) {
		return nil
	}
	w.handled[name] = tombstone || hdr.Typeflag != tar.TypeDir
	if tombstone {
		return nil
	}
	return w.visit(hdr, lw.index, content)
}

// hidden reports whether a parent of name is a higher layer's
// non-directory or whiteout, or a directory a higher layer made opaque.
func (w *walker) hidden(name string) bool {
	for d := parent(name); ; d = parent(d) {
		if d == "" {
			d = "."
		}
		if w.handled[d] || w.opaque[d] {
			return true
		}
		if d == "." {
			return false
		}
	}
}

// unsafeName is what Extract refuses besides climbing out of the root,
// which normalize refuses already: backslashes first and drive letters.
func unsafeName(name string) bool {
	c := path.Clean(strings.ReplaceAll(name, "\\", "/"))
	return strings.HasPrefix(name, "\\") || hasDrive(c)
}

// leavesRoot reports whether a relative link target resolved from the
// link's folder climbs out of the root; Extract leaves such links out.
func leavesRoot(name, target string) bool {
	c := path.Clean(strings.ReplaceAll(target, "\\", "/"))
	if path.IsAbs(c) {
		return false
	}
	if hasDrive(c) {
		return true
	}
	return strings.HasPrefix(path.Clean(path.Join(path.Dir(name), c)), "..")
}

func hasDrive(name string) bool {
	return len(name) >= 2 && name[1] == ':' &&
		('A' <= name[0] && name[0] <= 'Z' || 'a' <= name[0] && name[0] <= 'z')
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

func layerError(l v1.Layer, index int, err error) error {
	d, derr := l.Digest()
	if derr != nil {
		return fmt.Errorf("layer %d: %w", index, err)
	}
	return fmt.Errorf("layer %d (%s): %w", index, d, err)
}
