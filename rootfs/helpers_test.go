package rootfs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/testtool"
	"github.com/airlockhq/airlock/rootfs"
)

// write runs rootfs.Write into memory.
func write(t testing.TB, img v1.Image, opts ...rootfs.Option) ([]byte, concourse.Metadata) {
	t.Helper()
	var buf bytes.Buffer
	md, err := rootfs.Write(context.Background(), &buf, img, opts...)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), md
}

// unpack unpacks tgz as the S3 resource does: gunzip, then GNU tar as root.
func unpack(t *testing.T, tgz []byte) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testtool.SkipOrFail(t, "not root: unpacking with ownership, as Concourse does, needs root")
	}
	tmp := t.TempDir()
	archive := filepath.Join(tmp, "image.tgz")
	if err := os.WriteFile(archive, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(tmp, "dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "gunzip", archive)
	run(t, "tar", "xf", filepath.Join(tmp, "image.tar"), "-C", dest)
	return dest
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
}

// entry is one tar entry as archive/tar reads it.
type entry struct {
	hdr  *tar.Header
	body string
}

func list(t testing.TB, tgz []byte) []entry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var entries []entry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", hdr.Name, err)
		}
		entries = append(entries, entry{hdr, string(body)})
	}
}

// tree lists the paths under root, relative to it.
func tree(t *testing.T, root string) map[string]bool {
	t.Helper()
	paths := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		paths[rel] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// pyExtract extracts with tarfile's "data" filter. That filter refuses
// every absolute symlink, which images hold by design (they point into the
// image root at run time), so those alone pass through the "tar" filter,
// which still refuses writing any member through a symlink out of the folder.
const pyExtract = `
import sys, tarfile
def keep(member, dest):
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.AbsoluteLinkError:
        if not member.issym():
            raise
        return tarfile.tar_filter(member, dest)
with tarfile.open(sys.argv[1]) as tf:
    tf.extractall(sys.argv[2], filter=keep)
`

// unpackPython extracts tgz with Python's tarfile (see pyExtract) into a
// folder of its own and fails if anything lands beside that folder.
func unpackPython(t *testing.T, tgz []byte) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		testtool.SkipOrFail(t, "python3 is missing")
	}
	tmp := t.TempDir()
	archive := filepath.Join(tmp, "image.tgz")
	if err := os.WriteFile(archive, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(tmp, "box")
	dest := filepath.Join(box, "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "python3", "-c", pyExtract, archive, dest)
	if got := tree(t, box); len(got) == 0 || !got["dest"] || len(got) != len(tree(t, dest))+1 {
		t.Errorf("python extracted beside its folder: %v", got)
	}
	return dest
}

// writeWarnings runs rootfs.Write into memory and returns the warnings too.
func writeWarnings(t *testing.T, img v1.Image) ([]byte, []string) {
	t.Helper()
	var warnings []string
	tgz, _ := write(t, img, rootfs.WithWarning(func(w rootfs.Warning) {
		warnings = append(warnings, fmt.Sprintf("%d %s", w.Layer, w.Path))
	}))
	return tgz, warnings
}
