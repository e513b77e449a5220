package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/klauspost/pgzip"
	"golang.org/x/sync/errgroup"
)

// pgzipBlockSize is airlock's pgzip block size (rootfs.DefaultBlockSize);
// the concurrency is GOMAXPROCS, as in airlock.
const pgzipBlockSize = 1 << 20

// pipelineResult is what one image's pipeline produced.
type pipelineResult struct {
	path      string
	sha256    string
	tgzBytes  int64 // compressed, as written to the file
	flatBytes int64 // the tar stream before compression
}

// runPipeline is the "export, vs limit" reference: the bare pure-Go
// pipeline airlock's conversion cannot beat without skipping work. For each
// image (one argument: its layer blob paths, comma-separated, in the order
// airlock reads them) it gunzips every layer (pgzip, reading ahead as
// airlock does), reads it
// with archive/tar, renames each entry under rootfs/ with Uname/Gname
// cleared, writes it with archive/tar into pgzip (airlock's block size and
// concurrency), hashes the compressed stream with SHA-256 and writes it to a
// file, fsynced. Whiteouts are copied, not applied. Images run -j at a time.
// With -verify, each layer blob is also hashed with SHA-256 as it is read
// and must match its file name (the digest's hex, as run.sh names blobs):
// the one check a safe pull cannot skip, which airlock's registry client
// makes on every blob it fetches. Prints one line per image ("SHA256 TGZ_BYTES FLAT_BYTES PATH"), then
// "total SECONDS TGZ_BYTES FLAT_BYTES".
func runPipeline(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	level := fs.Int("level", pgzip.DefaultCompression, "pgzip compression level: 1-9, or -1 for pgzip.DefaultCompression (airlock's default; klauspost/compress maps it to level 5)")
	jobs := fs.Int("j", 2, "images converted at a time (airlock export's default -j)")
	outDir := fs.String("o", "", "folder for the output tgz files, 001.tgz, 002.tgz, ... (must not hold them yet)")
	verify := fs.Bool("verify", false, "check each layer blob's SHA-256 against its file name (the digest's hex) as it is read")
	pull := fs.Bool("pull", false, "each argument is an image reference: fetch its layer blobs from the registry as the pipeline reads them, each checked against its digest (go-containerregistry's remote, over plain HTTP for localhost), as airlock export does")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: benchtool pipeline [-level N] [-j N] [-verify] -o DIR LAYER[,LAYER...]...\n       benchtool pipeline [-level N] [-j N] -pull -o DIR IMAGE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *outDir == "" {
		return errors.New("pipeline: -o DIR is required")
	}
	if *jobs < 1 {
		return fmt.Errorf("pipeline: -j %d: need at least 1", *jobs)
	}
	if *level != pgzip.DefaultCompression && (*level < pgzip.BestSpeed || *level > pgzip.BestCompression) {
		return fmt.Errorf("pipeline: -level %d: pick 1 (fastest) to 9 (smallest), or -1 for the default", *level)
	}
	if fs.NArg() == 0 {
		return errors.New("pipeline: no images; give each image's layer blob paths, comma-separated")
	}
	images := make([][]layerSource, fs.NArg())
	for i, a := range fs.Args() {
		if *pull {
			ls, err := pulledLayers(a)
			if err != nil {
				return fmt.Errorf("pipeline: image %d: %w", i+1, err)
			}
			images[i] = ls
			continue
		}
		for _, p := range strings.Split(a, ",") {
			if p == "" {
				return fmt.Errorf("pipeline: image %d (%q): empty layer path", i+1, a)
			}
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("pipeline: image %d: %w", i+1, err)
			}
			if *verify && !isDigestHex(filepath.Base(p)) {
				return fmt.Errorf("pipeline: image %d: -verify: layer %s is not named by its digest (64 hex digits)", i+1, p)
			}
			images[i] = append(images[i], fileLayer(p, *verify))
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}

	start := time.Now()
	results := make([]pipelineResult, len(images))
	var g errgroup.Group
	g.SetLimit(*jobs)
	for i, layers := range images {
		out := filepath.Join(*outDir, fmt.Sprintf("%03d.tgz", i+1))
		g.Go(func() error {
			r, err := pipeImage(layers, out, *level)
			if err != nil {
				return fmt.Errorf("image %d: %w", i+1, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	elapsed := time.Since(start)
	var tgz, flat int64
	for _, r := range results {
		fmt.Fprintf(stdout, "%s %d %d %s\n", r.sha256, r.tgzBytes, r.flatBytes, r.path)
		tgz += r.tgzBytes
		flat += r.flatBytes
	}
	fmt.Fprintf(stdout, "total %.4f %d %d\n", elapsed.Seconds(), tgz, flat)
	return nil
}

// layerSource is one layer blob of an image: a name for errors and how
// to read it, whose reader fails at its end when the blob is not what its
// digest says (when checked).
type layerSource struct {
	name string
	open func() (io.ReadCloser, error)
}

// fileLayer reads a blob on disk; with verify, its bytes must hash to its
// file name.
func fileLayer(path string, verify bool) layerSource {
	return layerSource{name: path, open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil || !verify {
			return f, err
		}
		return &digestReader{f: f, h: sha256.New(), want: filepath.Base(path)}, nil
	}}
}

// digestReader fails its last read when what it read does not hash to want.
type digestReader struct {
	f    *os.File
	h    hash.Hash
	want string
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.f.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want {
			return n, fmt.Errorf("its bytes hash to sha256:%s, not to its name", got)
		}
	}
	return n, err
}

func (d *digestReader) Close() error { return d.f.Close() }

// pulledLayers lists the layers of the image at ref (linux/amd64), each
// read from the registry when the pipeline comes to it.
func pulledLayers(ref string) ([]layerSource, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []layerSource
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		out = append(out, layerSource{name: ref + "@" + d.String(), open: l.Compressed})
	}
	return out, nil
}

// pipeImage runs the pipeline for one image's layers into a new file at out.
func pipeImage(layers []layerSource, out string, level int) (pipelineResult, error) {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return pipelineResult{}, err
	}
	r, err := pipeInto(f, layers, level)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return pipelineResult{}, err
	}
	r.path = out
	return r, nil
}

func pipeInto(f io.Writer, layers []layerSource, level int) (pipelineResult, error) {
	h := sha256.New()
	tgz := &countingWriter{w: io.MultiWriter(f, h)}
	zw, err := pgzip.NewWriterLevel(tgz, level)
	if err != nil {
		return pipelineResult{}, err
	}
	if err := zw.SetConcurrency(pgzipBlockSize, runtime.GOMAXPROCS(0)); err != nil {
		return pipelineResult{}, err
	}
	zw.ModTime = time.Unix(0, 0)
	flat := &countingWriter{w: zw}
	tw := tar.NewWriter(flat)
	for _, l := range layers {
		if err := copyLayer(tw, l); err != nil {
			zw.Reset(io.Discard) // stops pgzip's goroutines
			return pipelineResult{}, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return pipelineResult{}, err
	}
	if err := zw.Close(); err != nil {
		return pipelineResult{}, err
	}
	return pipelineResult{sha256: hex.EncodeToString(h.Sum(nil)), tgzBytes: tgz.n, flatBytes: flat.n}, nil
}

// copyLayer appends the entries of one gzip'd layer tar to tw, renamed
// under rootfs/ with the owner names cleared, and reads the blob to its
// end, where a checked source fails if its bytes are not its digest's.
func copyLayer(tw *tar.Writer, l layerSource) error {
	rc, err := l.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	// The same read-ahead gunzip airlock uses (export/decompress.go):
	// inflating on its own goroutine overlaps the tar work.
	br := bufio.NewReaderSize(rc, 1<<20)
	zr, err := pgzip.NewReader(br)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := copyEntries(tw, tar.NewReader(zr)); err != nil {
		return err
	}
	// What follows the tar: its padding, then the gzip trailer; the
	// inflater first, whose read-ahead reads br until the stream ends.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, br)
	return err
}

func copyEntries(tw *tar.Writer, tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		hdr.Name = "rootfs/" + strings.TrimPrefix(hdr.Name, "./")
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = "rootfs/" + strings.TrimPrefix(hdr.Linkname, "./")
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Format = tar.FormatUnknown // the writer picks what the header needs
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

// isDigestHex reports whether name is a SHA-256 digest's lowercase hex.
func isDigestHex(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	for _, c := range name {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
