package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxHops bounds how far a chain of hardlinks (a -> b -> c) is followed.
const maxHops = 8

// request asks for the file held-back hardlinks point at: the topmost
// entry named target in a layer at or below layer.
type request struct {
	target  string
	layer   int
	links   []link
	hops    int
	scanned bool // a whole search has looked for it
}

// resolvePending writes, at the end of the tar, the hardlinks whose target
// never came out of the flattened stream (an upper layer deleted it) or
// came out replaced by an upper layer. It reads the raw layers again, from
// the highest one needed down: the first link to a target becomes a copy of
// the target as it was in the link's layer, the others hardlinks to it.
// Whiteouts are not applied in this pass.
func (f *flattener) resolvePending(ctx context.Context, img v1.Image) error {
	var layers []v1.Layer
	for f.takeRequests(); len(f.reqs) > 0; f.takeRequests() {
		if layers == nil {
			var err error
			if layers, err = img.Layers(); err != nil {
				return fmt.Errorf("listing layers: %w", err)
			}
		}
		for _, r := range f.requests() {
			r.scanned = true
		}
		if err := f.search(ctx, layers); err != nil {
			return err
		}
		for _, r := range f.requests() {
			if !r.scanned {
				continue
			}
			d := f.blockedParent(r.target)
			if d == "" {
				return notFound(r.links[0].hdr, r.target)
			}
			f.unrequest(r)
			for _, l := range r.links {
				f.warning(l.layer, l.hdr.Name, fmt.Sprintf("its target /%s lies beneath /%s, which is no directory", r.target, d))
				f.drop(l.hdr.Name)
			}
		}
	}
	if len(f.waiting) > 0 { // a cycle of links
		target := slices.Min(slices.Collect(maps.Keys(f.waiting)))
		return notFound(f.waiting[target][0].hdr, target)
	}
	return nil
}

func notFound(hdr *tar.Header, target string) error {
	return fmt.Errorf("hardlink %s%s: target %s%s not found in its layer or below",
		prefix, hdr.Name, prefix, target)
}

// takeRequests turns orphans and links waiting for a target that never
// appeared into requests. Links waiting for another held-back link stay:
// writing that link releases them.
func (f *flattener) takeRequests() {
	for _, l := range f.orphans {
		f.request(l.hdr.Linkname, l.layer, []link{l}, 0)
	}
	f.orphans = nil
	for _, target := range slices.Sorted(maps.Keys(f.waiting)) {
		if _, seen := f.names[target]; seen {
			continue
		}
		for _, l := range f.waiting[target] {
			f.request(target, l.layer, []link{l}, 0)
		}
		delete(f.waiting, target)
	}
}

func (f *flattener) request(target string, layer int, links []link, hops int) {
	f.reqs[target] = append(f.reqs[target], &request{target: target, layer: layer, links: links, hops: hops})
	for d := parent(target); d != "" && !f.reqDirs[d]; d = parent(d) {
		f.reqDirs[d] = true
	}
}

func (f *flattener) unrequest(r *request) {
	rest := slices.DeleteFunc(f.reqs[r.target], func(o *request) bool { return o == r })
	if len(rest) == 0 {
		delete(f.reqs, r.target)
	} else {
		f.reqs[r.target] = rest
	}
}

// blockedParent returns the nearest parent of target that a layer holds as
// a symlink or other non-directory (a hardlink "through" a symlink), or "".
func (f *flattener) blockedParent(target string) string {
	for d := parent(target); d != ""; d = parent(d) {
		if f.blocked[d] {
			return d
		}
	}
	return ""
}

// requests lists the open requests in a stable order.
func (f *flattener) requests() []*request {
	var all []*request
	for _, target := range slices.Sorted(maps.Keys(f.reqs)) {
		all = append(all, f.reqs[target]...)
	}
	return all
}

func (f *flattener) search(ctx context.Context, layers []v1.Layer) error {
	top := 0
	for _, r := range f.requests() {
		top = max(top, r.layer)
	}
	for j := min(top, len(layers)-1); j >= 0 && len(f.reqs) > 0; j-- {
		if err := f.searchLayer(ctx, layers[j], j); err != nil {
			return layerError(layers[j], j, err)
		}
	}
	return nil
}

func (f *flattener) searchLayer(ctx context.Context, layer v1.Layer, j int) error {
	rc, err := layer.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(ctxio.Reader(ctx, rc))
	for len(f.reqs) > 0 {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if keep, err := normalize(hdr); !keep || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if hdr.Typeflag != tar.TypeDir && f.reqDirs[hdr.Name] {
			f.blocked[hdr.Name] = true
		}
		if err := f.satisfy(hdr, j, tr); err != nil {
			return err
		}
	}
	return nil
}

// satisfy answers the requests an entry of layer j satisfies, if any.
func (f *flattener) satisfy(hdr *tar.Header, j int, content io.Reader) error {
	var links []link
	var rest []*request
	hops := 0
	for _, r := range f.reqs[hdr.Name] {
		if r.layer < j {
			rest = append(rest, r)
			continue
		}
		links = append(links, r.links...)
		hops = max(hops, r.hops)
	}
	if len(links) == 0 {
		return nil
	}
	f.reqs[hdr.Name] = rest
	if len(rest) == 0 {
		delete(f.reqs, hdr.Name)
	}
	return f.materialize(hdr, j, links, hops, content)
}

// materialize writes links[0] as a copy of the layer entry hdr and the
// other links as hardlinks to it.
func (f *flattener) materialize(hdr *tar.Header, j int, links []link, hops int, content io.Reader) error {
	switch {
	case hdr.Typeflag == tar.TypeLink:
		if hops == maxHops {
			return fmt.Errorf("hardlink %s%s: chain of more than %d links", prefix, links[0].hdr.Name, maxHops)
		}
		f.request(hdr.Linkname, j, links, hops+1)
		return nil
	case !keptType(hdr.Typeflag) || hdr.Typeflag == tar.TypeDir:
		for _, l := range links {
			f.drop(l.hdr.Name)
		}
		return nil
	}
	first := *hdr
	first.Name = links[0].hdr.Name
	if err := f.write(&first, j, content); err != nil {
		return err
	}
	for _, l := range links[1:] {
		l.hdr.Linkname = first.Name
		if err := f.addLink(l); err != nil {
			return err
		}
	}
	return nil
}
