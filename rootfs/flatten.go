package rootfs

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const prefix = "rootfs/"

// flattener writes the entries the walker hands it under rootfs/,
// holding back hardlinks until their target is in the tar, and leaving out
// entries the tree cannot hold (see conflict). Memory grows with the number
// of entries (names and held-back headers), never with file contents.
type flattener struct {
	tw      *tar.Writer
	img     v1.Image
	warn    func(Warning)
	names   map[string]state    // every path seen, clean
	dirs    map[string]struct{} // directories of the tree: explicit ones and parents of kept entries
	waiting map[string][]link   // hardlinks held back, by the target they wait for
	orphans []link              // hardlinks whose target an upper layer replaced
	reqs    map[string][]*request
	reqDirs map[string]bool // parents of requested hardlink targets
	blocked map[string]bool // those of them some layer holds as a non-directory
	lint    *linter         // sees every entry written

	layerEnd   func() error // called before the first entry of a layer after another's; may be nil
	layerStart func(int)    // called before the first entry of a layer, after layerEnd; may be nil
	lastLayer  int          // layer of the last entry written, -1 before the first

	// With a LayerMemo: the walker replays indexed layers, and announce
	// (the splitter's) is told of every regular file before it is written.
	memo     *LayerMemo
	announce func(ref *fileRef, src io.Reader, virtual bool) error
	cursors  []*layerCursor // the replayed layers'; see closeCursors
}

type state struct {
	kind  kind
	typ   byte // tar type of a written entry
	layer int  // layer a written entry came from
}

type kind uint8

const (
	pending kind = iota // a hardlink held back
	written
	dropped
	refused // left out with a warning; see conflict
)

type link struct {
	hdr   *tar.Header // clean names, relative to the image root
	layer int
}

func newFlattener(tw *tar.Writer, img v1.Image, warn func(Warning)) *flattener {
	return &flattener{
		tw: tw, img: img, warn: warn, names: map[string]state{}, dirs: map[string]struct{}{},
		waiting: map[string][]link{}, reqs: map[string][]*request{},
		reqDirs: map[string]bool{}, blocked: map[string]bool{}, lint: newLinter(), lastLayer: -1,
	}
}

// flatten writes the image's layers, flattened, into the tar.
func (f *flattener) flatten(ctx context.Context, img v1.Image) error {
	w := newWalker(ctx, f.add)
	if f.announce != nil {
		w.memo = f.memo
	}
	err := w.walk(img)
	f.cursors = w.cursors
	if err != nil {
		return err
	}
	f.warnShadowed(w.shadowed)
	return nil
}

func (f *flattener) add(hdr *tar.Header, layer int, content io.Reader) error {
	if _, seen := f.names[hdr.Name]; seen || hdr.Name == "" {
		return nil
	}
	switch {
	case !kept(hdr):
		f.drop(hdr.Name)
		return nil
	case f.refuse(hdr, layer):
		return nil
	case hdr.Typeflag == tar.TypeLink:
		return f.addLink(link{hdr: hdr, layer: layer})
	}
	return f.write(hdr, layer, content)
}

// warnShadowed warns about the entries the walker left out because an earlier
// entry of their layer is a non-directory at one of their parents: those
// whose non-directory parent is in the tree and that no higher layer put
// in the tree itself.
func (f *flattener) warnShadowed(shadowed []shadow) {
	for _, s := range shadowed {
		_, kept := f.names[s.Path]
		if st := f.names[s.parent]; !kept && st.kind == written && st.typ != tar.TypeDir {
			f.warning(s.Layer, s.Path, s.Reason)
		}
	}
}

// kept reports whether an entry belongs in a Concourse rootfs: no device
// nodes or FIFOs (an unprivileged container cannot create them), nothing
// under /dev (the runtime mounts its own), no whiteout markers.
func kept(hdr *tar.Header) bool {
	return keptType(hdr.Typeflag) &&
		!strings.HasPrefix(hdr.Name, "dev/") &&
		!strings.HasPrefix(path.Base(hdr.Name), ".wh.")
}

func keptType(typ byte) bool {
	switch typ {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		return true
	}
	return false
}

// refuse leaves hdr out with a warning if the tree cannot hold it, else
// records the directories it implies. Entries count in stream order (upper
// layers first), hardlinks where they appear even if written later: an
// entry beneath an earlier non-directory is left out, and so is a
// non-directory at a path earlier entries lie beneath.
func (f *flattener) refuse(hdr *tar.Header, layer int) bool {
	reason := f.conflict(hdr)
	if reason == "" {
		if hdr.Typeflag == tar.TypeDir {
			f.dirs[hdr.Name] = struct{}{}
		}
		for d := parent(hdr.Name); d != ""; d = parent(d) {
			if _, ok := f.dirs[d]; ok {
				break
			}
			f.dirs[d] = struct{}{}
		}
		return false
	}
	f.warning(layer, hdr.Name, reason)
	f.names[hdr.Name] = state{kind: refused, layer: layer}
	// Links to it get a copy of it from its layer, as for a replaced target.
	f.orphans = append(f.orphans, f.waiting[hdr.Name]...)
	delete(f.waiting, hdr.Name)
	return true
}

// conflict says why the tree cannot hold hdr, or "" if it can. A path is
// never both in dirs and a kept non-directory, so the walk up stops at the
// first known directory.
func (f *flattener) conflict(hdr *tar.Header) string {
	if _, ok := f.dirs[hdr.Name]; ok && hdr.Typeflag != tar.TypeDir {
		return "a higher layer, or an earlier entry of its layer, puts entries beneath it"
	}
	for d := parent(hdr.Name); d != ""; d = parent(d) {
		if _, ok := f.dirs[d]; ok {
			return ""
		}
		if st, ok := f.names[d]; ok && (st.kind == pending || st.kind == written) {
			return fmt.Sprintf("its parent /%s is a %s", d, typeName(st))
		}
	}
	return ""
}

func typeName(st state) string {
	switch {
	case st.kind == pending || st.typ == tar.TypeLink || st.typ == tar.TypeReg:
		return "file"
	case st.typ == tar.TypeSymlink:
		return "symlink"
	}
	return "non-directory"
}

// parent returns the parent of a clean relative path, "" for the root.
func parent(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

func (f *flattener) warning(layer int, name, reason string) {
	w := Warning{Layer: layer, Path: name, Reason: reason}
	if layers, err := f.img.Layers(); err == nil && layer < len(layers) {
		if d, err := layers[layer].Digest(); err == nil {
			w.Digest = d.String()
		}
	}
	f.warn(w)
}

// addLink writes a hardlink if its target is in the tar already and is
// the file the link meant, else holds it back.
func (f *flattener) addLink(l link) error {
	name, target := l.hdr.Name, l.hdr.Linkname
	st, ok := f.names[target]
	switch {
	case target == name:
		f.drop(name)
	case !ok || st.kind == pending:
		f.names[name] = state{kind: pending}
		f.waiting[target] = append(f.waiting[target], l)
	case st.kind == refused:
		f.names[name] = state{kind: pending}
		f.orphans = append(f.orphans, l)
	case st.kind == dropped || st.typ == tar.TypeDir:
		f.drop(name)
	case st.layer > l.layer:
		f.names[name] = state{kind: pending}
		f.orphans = append(f.orphans, l)
	default:
		return f.write(l.hdr, l.layer, nil)
	}
	return nil
}

// write writes an entry, then the hardlinks that were waiting for it.
func (f *flattener) write(hdr *tar.Header, layer int, content io.Reader) error {
	if layer != f.lastLayer && f.lastLayer >= 0 && f.layerEnd != nil {
		if err := f.tw.Flush(); err != nil {
			return err
		}
		if err := f.layerEnd(); err != nil {
			return err
		}
	}
	if layer != f.lastLayer && f.layerStart != nil {
		f.layerStart(layer)
	}
	f.lastLayer = layer
	virtual, err := f.announceFile(hdr, content)
	if err != nil {
		return err
	}
	if virtual {
		content = zeros{} // the splitter keeps none of these bytes
	}
	content = f.lint.see(hdr, content)
	out := outHeader(hdr)
	if err := f.tw.WriteHeader(out); err != nil {
		return fmt.Errorf("writing %s: %w", out.Name, err)
	}
	if out.Size > 0 {
		if _, err := io.CopyN(f.tw, content, out.Size); err != nil {
			return fmt.Errorf("writing %s: %w", out.Name, err)
		}
	}
	f.names[hdr.Name] = state{kind: written, typ: hdr.Typeflag, layer: layer}
	links := f.waiting[hdr.Name]
	delete(f.waiting, hdr.Name)
	for _, l := range links {
		if err := f.addLink(l); err != nil {
			return err
		}
	}
	return nil
}

// closeCursors ends the replayed layers' cursors once the tar is
// complete (a run's files may be read until the run is cut, after its
// layer's walk). With check, a layer the cursor read unchecked bytes of
// (files no earlier read had the sum of) is read to its end, so that its
// digest is checked.
func (f *flattener) closeCursors(check bool) error {
	var first error
	for _, c := range f.cursors {
		var err error
		if check && c.unchecked {
			err = c.finish()
		}
		c.close()
		if err != nil && first == nil {
			first = fmt.Errorf("flattening image: %w", layerError(c.layer, c.index, err))
		}
	}
	f.cursors = nil
	return first
}

// announceFile tells the splitter which file a regular entry's content
// is, when the walker knows (a layer the memo indexes), and reports
// whether the content is left unread: a replayed file the lint does not
// need to read.
func (f *flattener) announceFile(hdr *tar.Header, content io.Reader) (bool, error) {
	cr, ok := content.(*contentReader)
	if f.announce == nil || !ok || cr.ref == nil || hdr.Typeflag != tar.TypeReg {
		return false, nil
	}
	ref, virtual := cr.ref, cr.virtual
	if virtual && (f.lint.wants(hdr) || ref.size != hdr.Size) {
		ref, virtual = &fileRef{}, false
	}
	if !virtual {
		ref.size = hdr.Size // a ref not published yet: this conversion learns its sum
	}
	return virtual, f.announce(ref, cr, virtual)
}

// drop leaves name out, with the hardlinks waiting for it.
func (f *flattener) drop(name string) {
	f.names[name] = state{kind: dropped}
	links := f.waiting[name]
	delete(f.waiting, name)
	for _, l := range links {
		f.drop(l.hdr.Name)
	}
}

// outHeader builds the header written for a layer entry: a fresh one, so
// uname/gname, xattrs, other PAX records and access/change times are gone.
func outHeader(hdr *tar.Header) *tar.Header {
	out := &tar.Header{
		Typeflag: hdr.Typeflag,
		Name:     prefix + hdr.Name,
		Mode:     hdr.Mode & 0o7777,
		Uid:      hdr.Uid,
		Gid:      hdr.Gid,
		ModTime:  hdr.ModTime,
		Format:   tar.FormatPAX,
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		out.Size = hdr.Size
	case tar.TypeDir:
		out.Name += "/"
	case tar.TypeSymlink:
		out.Linkname = hdr.Linkname
	case tar.TypeLink:
		out.Linkname = prefix + hdr.Linkname
	}
	return out
}
