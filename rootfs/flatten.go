package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

const prefix = "rootfs/"

// flattener writes the entries of mutate.Extract's stream under rootfs/,
// holding back hardlinks until their target is in the tar. Memory grows
// with the number of entries (names and held-back headers), never with
// file contents.
type flattener struct {
	tw      *tar.Writer
	names   map[string]state  // every path seen, clean
	waiting map[string][]link // hardlinks held back, by the target they wait for
	orphans []link            // hardlinks whose target an upper layer replaced
	reqs    map[string][]*request
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
)

type link struct {
	hdr   *tar.Header // clean names, relative to the image root
	layer int
}

func newFlattener(tw *tar.Writer) *flattener {
	return &flattener{
		tw: tw, names: map[string]state{}, waiting: map[string][]link{},
		reqs: map[string][]*request{},
	}
}

func (f *flattener) copyExtract(ctx context.Context, img v1.Image) error {
	rc := mutate.Extract(taggedImage{Image: img, ctx: ctx})
	defer rc.Close()
	// Unblocks a read waiting on a slow layer as soon as ctx is done.
	defer context.AfterFunc(ctx, func() { rc.Close() })()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Extract ends its tar before reporting an error that happens
			// between entries; only the pipe's end tells success from failure.
			_, err = io.Copy(io.Discard, rc)
			if err == nil {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("flattening image: %w", err)
		}
		layer, err := layerOf(hdr)
		if err != nil {
			return err
		}
		if err := f.add(hdr, layer, tr); err != nil {
			return err
		}
	}
}

func (f *flattener) add(hdr *tar.Header, layer int, content io.Reader) error {
	if _, seen := f.names[hdr.Name]; seen || hdr.Name == "" {
		return nil
	}
	switch {
	case !kept(hdr):
		f.drop(hdr.Name)
		return nil
	case hdr.Typeflag == tar.TypeLink:
		return f.addLink(link{hdr: hdr, layer: layer})
	}
	return f.write(hdr, layer, content)
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
