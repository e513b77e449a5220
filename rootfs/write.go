package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/ctxio"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/pgzip"
)

// epoch is the modification time of the entries airlock adds itself
// (metadata.json, rootfs/). A constant rather than the config's Created keeps
// the entries identical across rebuilds of the same filesystem.
var epoch = time.Unix(0, 0)

// Write streams img as a Concourse rootfs tgz into w and returns the
// metadata written. Nothing is buffered beyond the gzip blocks in flight.
// On error, w holds an incomplete stream without a gzip trailer, which the
// caller must discard.
func Write(ctx context.Context, w io.Writer, img v1.Image, opts ...Option) (concourse.Metadata, error) {
	o := makeOptions(opts)
	cfg, err := img.ConfigFile()
	if err != nil {
		return concourse.Metadata{}, fmt.Errorf("reading image config: %w", err)
	}
	md := MetadataOf(cfg)
	zw, err := newCompressor(w, o)
	if err != nil {
		return concourse.Metadata{}, err
	}
	pw := &ctxio.ProgressWriter{W: zw, Report: o.progress, Step: progressStep}
	if err := writeTar(ctx, pw, img, md, o, zw); err != nil {
		zw.Abort()
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = cerr // the error is a consequence of stopping
		}
		return concourse.Metadata{}, err
	}
	if err := zw.Close(); err != nil {
		return concourse.Metadata{}, fmt.Errorf("compressing: %w", err)
	}
	pw.Flush()
	return md, nil
}

func newCompressor(w io.Writer, o options) (compressor, error) {
	if o.members != nil {
		return newMemberWriter(w, o)
	}
	zw, err := newGzip(w, o)
	if err != nil {
		return nil, err
	}
	return pgzipCompressor{zw}, nil
}

func newGzip(w io.Writer, o options) (*pgzip.Writer, error) {
	zw, err := pgzip.NewWriterLevel(w, o.level)
	if err != nil {
		return nil, fmt.Errorf("compression level %d: %w", o.level, err)
	}
	if err := zw.SetConcurrency(o.blockSize, o.concurrency); err != nil {
		return nil, fmt.Errorf("block size %d: %w", o.blockSize, err)
	}
	// pgzip writes ModTime.Unix() as is; the zero time would not give 0.
	zw.ModTime = epoch
	return zw, nil
}

// writeTar writes the tar into w, which writes into zw. zw.LayerEnd is
// called between the entries of two layers, once the tar writer has
// flushed the earlier entry; a member writer with a LayerMemo is also told
// of every file (announce) and of the layer each run comes from.
func writeTar(ctx context.Context, w io.Writer, img v1.Image, md concourse.Metadata, o options, zw compressor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := writeMetadata(tw, md); err != nil {
		return err
	}
	if err := tw.WriteHeader(ownHeader(prefix, tar.TypeDir, 0o755)); err != nil {
		return fmt.Errorf("writing %s: %w", prefix, err)
	}
	f := newFlattener(tw, img, o.warn)
	f.layerEnd = zw.LayerEnd
	if mw, ok := zw.(*memberWriter); ok && mw.memo != nil {
		f.memo, f.announce, f.layerStart = mw.memo, mw.announce, mw.layerStart
		mw.hashLayers(img)
	}
	defer f.closeCursors(false)
	if err := f.flatten(ctx, img); err != nil {
		return err
	}
	if err := f.resolvePending(ctx, img); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing tar: %w", err)
	}
	if err := f.closeCursors(true); err != nil {
		return err
	}
	o.lint(f.lint.finish(md.User))
	return nil
}

func ownHeader(name string, typ byte, mode int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: typ, Mode: mode, ModTime: epoch, Format: tar.FormatPAX}
}

// progressStep is how many bytes on their way to the compressor gather
// before a progress report.
const progressStep = 1 << 20
