package rootfs_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

func TestWriteHardlinks(t *testing.T) {
	type F = imagetest.File
	reg := func(name, body string) F { return F{Name: name, Body: body} }
	hard := func(name, target string) F { return F{Name: name, Type: tar.TypeLink, Linkname: target} }
	wh := imagetest.Whiteout

	tests := []struct {
		name     string
		layers   [][]F
		files    map[string]string // every non-directory left, with its content
		same     [][2]string
		distinct [][2]string
		wantErr  string
	}{{
		name:   "same layer",
		layers: [][]F{{reg("a", "A"), hard("b", "a")}},
		files:  map[string]string{"a": "A", "b": "A"},
		same:   [][2]string{{"a", "b"}},
	}, {
		name:   "upper layer links to lower file",
		layers: [][]F{{reg("a", "A")}, {hard("b", "a")}},
		files:  map[string]string{"a": "A", "b": "A"},
		same:   [][2]string{{"a", "b"}},
	}, {
		name:   "target deleted above becomes a file shared by its links",
		layers: [][]F{{reg("a", "A"), hard("b", "a"), hard("c", "a")}, {wh("a")}},
		files:  map[string]string{"b": "A", "c": "A"},
		same:   [][2]string{{"b", "c"}},
	}, {
		name:   "target in deleted directory",
		layers: [][]F{{reg("d/a", "A"), hard("x", "d/a")}, {wh("d")}},
		files:  map[string]string{"x": "A"},
	}, {
		name:   "target in opaque directory",
		layers: [][]F{{reg("d/a", "A"), hard("x", "d/a")}, {imagetest.Opaque("d"), reg("d/n", "N")}},
		files:  map[string]string{"x": "A", "d/n": "N"},
	}, {
		name:     "target replaced above keeps the old content",
		layers:   [][]F{{reg("a", "old"), hard("b", "a")}, {reg("a", "new")}},
		files:    map[string]string{"a": "new", "b": "old"},
		distinct: [][2]string{{"a", "b"}},
	}, {
		name:     "link to a link whose target was replaced",
		layers:   [][]F{{reg("a", "old"), hard("b", "a")}, {reg("a", "new")}, {hard("c", "b")}},
		files:    map[string]string{"a": "new", "b": "old", "c": "old"},
		same:     [][2]string{{"b", "c"}},
		distinct: [][2]string{{"a", "b"}},
	}, {
		name:   "chain through deleted links",
		layers: [][]F{{reg("a", "A"), hard("b", "a")}, {hard("c", "b")}, {wh("a"), wh("b")}},
		files:  map[string]string{"c": "A"},
	}, {
		name:   "absolute and dotted names",
		layers: [][]F{{reg("./a", "A"), hard("/b", "./a")}, {hard("c", "/a")}},
		files:  map[string]string{"a": "A", "b": "A", "c": "A"},
		same:   [][2]string{{"a", "b"}, {"a", "c"}},
	}, {
		name:   "links to devices and directories are dropped",
		layers: [][]F{{{Name: "n", Type: tar.TypeChar, Devmajor: 1, Devminor: 3}, hard("m", "n"), imagetest.Dir("d", 0o755), hard("e", "d")}},
		files:  map[string]string{},
	}, {
		name:    "target in no layer",
		layers:  [][]F{{hard("b", "nope")}},
		wantErr: "hardlink rootfs/b: target rootfs/nope not found",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := imagetest.Image(t, tt.layers...)
			var buf bytes.Buffer
			_, err := rootfs.Write(context.Background(), &buf, img)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Write error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			checkListing(t, list(t, buf.Bytes()))
			root := filepath.Join(unpack(t, buf.Bytes()), "rootfs")
			if got := files(t, root); !maps.Equal(got, tt.files) {
				t.Errorf("files %v, want %v", got, tt.files)
			}
			checkLinks(t, root, tt.same, tt.distinct)
		})
	}
}

// files maps each non-directory under root to its content.
func files(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, p := range slices.Sorted(maps.Keys(tree(t, root))) {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil || fi.Mode().Type() == fs.ModeDir {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(root, p))
		got[p] = string(b)
	}
	return got
}
