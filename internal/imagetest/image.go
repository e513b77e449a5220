package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Epoch is the modification time of every [File] that does not set one.
var Epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is one tar entry of a layer.
type File struct {
	Name     string
	Type     byte   // tar type flag; tar.TypeReg when zero
	Body     string // content of a regular file
	Mode     int64  // permission bits; when zero 0644, or 0755 for directories, 0777 for symlinks
	Uid, Gid int
	// Uname and Gname are written verbatim; tar maps ownership by name when set.
	Uname, Gname       string
	Linkname           string // target of a symlink or hardlink
	Devmajor, Devminor int64
	Xattrs             map[string]string // written as SCHILY.xattr.* PAX records
	ModTime            time.Time         // Epoch when zero
}

// Dir describes a directory.
func Dir(name string, mode int64) File {
	return File{Name: name, Type: tar.TypeDir, Mode: mode}
}

// Whiteout describes the marker that deletes p from lower layers.
func Whiteout(p string) File {
	return File{Name: path.Join(path.Dir(p), ".wh."+path.Base(p))}
}

// Opaque describes the marker that hides everything lower layers put in dir.
func Opaque(dir string) File {
	return File{Name: path.Join(dir, ".wh..wh..opq")}
}

// Image builds a linux/amd64 image with one layer per element of layers,
// bottom layer first.
func Image(t testing.TB, layers ...[]File) v1.Image {
	t.Helper()
	img := empty.Image
	for _, files := range layers {
		var err error
		if img, err = mutate.AppendLayers(img, Layer(t, files...)); err != nil {
			t.Fatalf("appending layer: %v", err)
		}
	}
	return Configure(t, img, func(*v1.Config) {})
}

// Random builds an image of random incompressible layers (see random.Image).
func Random(t testing.TB, byteSize, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(byteSize, layers)
	if err != nil {
		t.Fatalf("building random image: %v", err)
	}
	return img
}

// Layer builds a gzip-compressed layer holding files in order.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := f.header()
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing %s: %v", f.Name, err)
		}
		if _, err := io.WriteString(tw, f.Body); err != nil {
			t.Fatalf("writing %s: %v", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		t.Fatalf("building layer: %v", err)
	}
	return l
}

func (f File) header() *tar.Header {
	hdr := &tar.Header{
		Name: f.Name, Typeflag: f.Type, Mode: f.Mode, Uid: f.Uid, Gid: f.Gid,
		Uname: f.Uname, Gname: f.Gname, Linkname: f.Linkname,
		Devmajor: f.Devmajor, Devminor: f.Devminor, ModTime: f.ModTime,
	}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Typeflag == tar.TypeReg {
		hdr.Size = int64(len(f.Body))
	}
	if hdr.Mode == 0 {
		switch hdr.Typeflag {
		case tar.TypeDir:
			hdr.Mode = 0o755
		case tar.TypeSymlink:
			hdr.Mode = 0o777
		default:
			hdr.Mode = 0o644
		}
	}
	if hdr.ModTime.IsZero() {
		hdr.ModTime = Epoch
	}
	for k, v := range f.Xattrs {
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = v
		hdr.Format = tar.FormatPAX
	}
	return hdr
}
