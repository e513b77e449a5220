package rootfs

// The oracle: how airlock flattened layers before the one-pass walker,
// go-containerregistry's mutate.Extract over layers re-tarred on the fly
// (three tar decodes and two encodes per entry, through two pipes). The
// walker must hand the flattener exactly what this handed it;
// TestWalkMatchesExtract holds it to that.

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/ctxio"
	"github.com/airlockhq/airlock/internal/imagetest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
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

func layerOf(hdr *tar.Header) (int, error) {
	n, err := strconv.Atoi(hdr.PAXRecords[layerRecord])
	if err != nil {
		return 0, fmt.Errorf("entry %q: no layer tag", hdr.Name)
	}
	return n, nil
}

// oracleEntry is what the flattener is handed for one entry.
type oracleEntry struct {
	Name, Linkname string
	Typeflag       byte
	Mode           int64
	Uid, Gid       int
	ModTime        time.Time
	Size           int64
	Layer          int
	Content        string
}

func record(out *[]oracleEntry) func(*tar.Header, int, io.Reader) error {
	return func(hdr *tar.Header, layer int, r io.Reader) error {
		e := oracleEntry{Name: hdr.Name, Linkname: hdr.Linkname, Typeflag: hdr.Typeflag, Mode: hdr.Mode,
			Uid: hdr.Uid, Gid: hdr.Gid, ModTime: hdr.ModTime, Size: hdr.Size, Layer: layer}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			b, err := io.ReadAll(io.LimitReader(r, hdr.Size))
			if err != nil {
				return err
			}
			e.Content = string(b)
		}
		*out = append(*out, e)
		return nil
	}
}

// oracle is what the old pipeline handed the flattener.
func oracle(t *testing.T, img v1.Image) ([]oracleEntry, []shadow, error) {
	t.Helper()
	state := newLayerState()
	rc := mutate.Extract(taggedImage{Image: img, ctx: context.Background(), state: state})
	defer rc.Close()
	var out []oracleEntry
	visit := record(&out)
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Extract ends its tar before reporting an error between entries.
			if _, err := io.Copy(io.Discard, rc); err != nil {
				return nil, nil, err
			}
			break
		}
		if err != nil {
			return nil, nil, err
		}
		layer, err := layerOf(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if err := visit(hdr, layer, tr); err != nil {
			t.Fatal(err)
		}
	}
	return out, state.shadowed, nil
}

func walked(img v1.Image) ([]oracleEntry, []shadow, error) {
	var out []oracleEntry
	w := newWalker(context.Background(), record(&out))
	err := w.walk(img)
	return out, w.shadowed, err
}

// TestWalkMatchesExtract holds the one-pass walker to what mutate.Extract
// over the re-tarred layers gave the flattener: the same entries, in the
// same order, with the same fields and content, and the same shadowed
// entries; over the edge-case image and thousands of random layer stacks
// full of name clashes, whiteouts, opaque markers and links.
func TestWalkMatchesExtract(t *testing.T) {
	compare := func(t *testing.T, img v1.Image, layers [][]imagetest.File) {
		t.Helper()
		want, wantShadow, wantErr := oracle(t, img)
		got, gotShadow, err := walked(img)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("layers %+v:\nwalker error %v\nExtract error %v", layers, err, wantErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			for i := range max(len(got), len(want)) {
				var g, w any
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("layers %+v:\nentry %d: walker %+v\nExtract %+v", layers, i, g, w)
				}
			}
		}
		if !reflect.DeepEqual(gotShadow, wantShadow) {
			t.Fatalf("layers %+v:\nshadowed: walker %+v\nExtract %+v", layers, gotShadow, wantShadow)
		}
	}
	t.Run("edge case", func(t *testing.T) {
		compare(t, imagetest.EdgeCase(t), nil)
	})
	rounds := 2000
	if testing.Short() {
		rounds = 200
	}
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"a", "a/b", "a/b/c", "a/d", "e", "e/f", ".wh.a", "a/.wh.b", "a/.wh..wh..opq",
		".wh..wh..opq", "e/.wh.f", "./a/b", "/e/f", "dev/x", "a/b/.wh.c", "C:x", "g"}
	for round := range rounds {
		var layers [][]imagetest.File
		for range 1 + rng.IntN(4) {
			var files []imagetest.File
			for range rng.IntN(7) {
				f := imagetest.File{Name: names[rng.IntN(len(names))], ModTime: time.Unix(int64(rng.IntN(3)), int64(rng.IntN(2))*500)}
				switch rng.IntN(6) {
				case 0, 1:
					f.Body = fmt.Sprintf("r%d", round)
				case 2:
					f.Type, f.Mode = tar.TypeDir, 0o755
				case 3:
					f.Type, f.Linkname = tar.TypeSymlink, []string{"a", "../../x", "/e", "b"}[rng.IntN(4)]
				case 4:
					f.Type, f.Linkname = tar.TypeLink, names[rng.IntN(3)]
				case 5:
					f.Type, f.Devmajor = tar.TypeChar, 1
				}
				files = append(files, f)
			}
			layers = append(layers, files)
		}
		compare(t, imagetest.Image(t, layers...), layers)
	}
}
