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

	"github.com/airlockhq/airlock/internal/ctxio"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerRecord is the PAX record taggedLayer adds to every entry so the
// flattened stream says which layer each entry came from.
const layerRecord = "AIRLOCK.layer"

// taggedImage is an image whose layers tag their entries with layerRecord
// and clean their names before mutate.Extract sees them.
type taggedImage struct {
	v1.Image
	ctx context.Context
}

func (ti taggedImage) Layers() ([]v1.Layer, error) {
	layers, err := ti.Image.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	tagged := make([]v1.Layer, len(layers))
	for i, l := range layers {
		tagged[i] = taggedLayer{Layer: l, ctx: ti.ctx, index: i}
	}
	return tagged, nil
}

type taggedLayer struct {
	v1.Layer
	ctx   context.Context
	index int
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
	r := ctxio.Reader(l.ctx, rc)
	tr := tar.NewReader(r)
	// Hand data to the pipe a MiB at a time, not per 32 KiB tar write.
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	tag := strconv.Itoa(l.index)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = l.copyEntry(tw, tr, hdr, tag)
		}
		if err != nil {
			return layerError(l.Layer, l.index, err)
		}
	}
	// Read to the end so the layer's digest gets verified, as Extract does.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return layerError(l.Layer, l.index, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func (l taggedLayer) copyEntry(tw *tar.Writer, tr *tar.Reader, hdr *tar.Header, tag string) error {
	keep, err := normalize(hdr)
	if !keep || err != nil {
		return err
	}
	hdr.PAXRecords = map[string]string{layerRecord: tag}
	hdr.Format = tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, tr)
	return err
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
