package rootfs_test

import (
	"archive/tar"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/airlockhq/airlock/internal/imagetest"
)

// Layers that give one path two types. Every case must unpack with GNU tar
// as the S3 resource does and with Python's tarfile, nothing outside the
// folder, and leave out exactly the warned entries.
func TestWriteConflictingTypes(t *testing.T) {
	type F = imagetest.File
	reg := func(name, body string) F { return F{Name: name, Body: body} }
	sym := func(name, target string) F { return F{Name: name, Type: tar.TypeSymlink, Linkname: target} }
	hard := func(name, target string) F { return F{Name: name, Type: tar.TypeLink, Linkname: target} }
	dir := func(name string) F { return imagetest.Dir(name, 0o755) }
	wh := imagetest.Whiteout

	tests := []struct {
		name     string
		layers   [][]F
		files    map[string]string // every non-directory left, with its content or symlink target
		same     [][2]string
		warnings []string // "layer path"
	}{{
		name:     "file beneath a lower absolute symlink",
		layers:   [][]F{{sym("d", "/elsewhere")}, {reg("d/x", "X")}},
		files:    map[string]string{"d/x": "X"},
		warnings: []string{"0 d"},
	}, {
		name:     "file beneath a lower relative symlink",
		layers:   [][]F{{dir("e"), sym("d", "e")}, {reg("d/x", "X")}},
		files:    map[string]string{"d/x": "X"},
		warnings: []string{"0 d"},
	}, {
		name:     "file beneath a lower file",
		layers:   [][]F{{reg("d", "D")}, {reg("d/x", "X")}},
		files:    map[string]string{"d/x": "X"},
		warnings: []string{"0 d"},
	}, {
		name:     "hardlink beneath a lower symlink",
		layers:   [][]F{{reg("t", "T"), sym("d", "/elsewhere")}, {hard("d/x", "t")}},
		files:    map[string]string{"t": "T", "d/x": "T"},
		same:     [][2]string{{"t", "d/x"}},
		warnings: []string{"0 d"},
	}, {
		name:     "hardlink beneath a lower symlink written before its target",
		layers:   [][]F{{sym("d", "/elsewhere"), reg("t", "T")}, {hard("d/x", "t")}},
		files:    map[string]string{"t": "T", "d/x": "T"},
		same:     [][2]string{{"t", "d/x"}},
		warnings: []string{"0 d"},
	}, {
		name:     "file beneath a symlink of the same layer",
		layers:   [][]F{{sym("d", "/elsewhere"), reg("d/x", "X"), dir("d/sub"), reg("d/sub/y", "Y")}},
		files:    map[string]string{"d": "/elsewhere"},
		warnings: []string{"0 d/x", "0 d/sub", "0 d/sub/y"},
	}, {
		name:     "hardlink to a file beneath a symlink of its layer",
		layers:   [][]F{{sym("d", "/elsewhere"), reg("d/x", "X"), hard("h", "d/x")}},
		files:    map[string]string{"d": "/elsewhere", "h": "X"},
		warnings: []string{"0 d/x"},
	}, {
		name:     "hardlink target through a symlink",
		layers:   [][]F{{dir("e"), reg("e/t", "T"), sym("d", "e")}, {hard("h", "d/t")}},
		files:    map[string]string{"e/t": "T", "d": "e"},
		warnings: []string{"1 h"},
	}, {
		name:     "hardlink target beneath a file",
		layers:   [][]F{{reg("f", "F")}, {hard("h", "f/t")}},
		files:    map[string]string{"f": "F"},
		warnings: []string{"1 h"},
	}, {
		name:     "hardlink to a file left out keeps its content",
		layers:   [][]F{{reg("d", "D"), hard("h", "d")}, {reg("d/x", "X")}},
		files:    map[string]string{"d/x": "X", "h": "D"},
		warnings: []string{"0 d"},
	}, {
		name:   "file replaced by a directory",
		layers: [][]F{{reg("d", "D")}, {dir("d"), reg("d/x", "X")}},
		files:  map[string]string{"d/x": "X"},
	}, {
		name:   "directory replaced by a file",
		layers: [][]F{{dir("d"), reg("d/x", "X")}, {reg("d", "D")}},
		files:  map[string]string{"d": "D"},
	}, {
		name:   "directory over a lower symlink",
		layers: [][]F{{sym("d", "/elsewhere")}, {dir("d"), reg("d/x", "X")}},
		files:  map[string]string{"d/x": "X"},
	}, {
		name:   "directory, symlink, directory again",
		layers: [][]F{{dir("d"), reg("d/old", "O")}, {sym("d", "/elsewhere")}, {dir("d"), reg("d/new", "N")}},
		files:  map[string]string{"d/new": "N"},
	}, {
		name:   "directory, file, directory again",
		layers: [][]F{{dir("d"), reg("d/old", "O")}, {reg("d", "D")}, {dir("d"), reg("d/new", "N")}},
		files:  map[string]string{"d/new": "N"},
	}, {
		name:   "whiteout of the parent, then entries in the same layer",
		layers: [][]F{{dir("d"), reg("d/old", "O")}, {wh("d"), dir("d"), reg("d/new", "N")}},
		files:  map[string]string{"d/new": "N"},
	}, {
		name:   "whiteout of a file, then the file again in the same layer",
		layers: [][]F{{reg("f", "old")}, {wh("f"), reg("f", "new")}},
		files:  map[string]string{"f": "new"},
	}, {
		name:   "whiteout of the parent, then entries a layer higher",
		layers: [][]F{{dir("d"), reg("d/old", "O")}, {wh("d")}, {reg("d/new", "N")}},
		files:  map[string]string{"d/new": "N"},
	}, {
		name:   "whiteout of a symlink, then a file beneath its path",
		layers: [][]F{{sym("d", "/elsewhere")}, {wh("d")}, {reg("d/x", "X")}},
		files:  map[string]string{"d/x": "X"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgz, warnings := writeWarnings(t, imagetest.Image(t, tt.layers...))
			if !slices.Equal(warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", warnings, tt.warnings)
			}
			checkListing(t, list(t, tgz))
			for tool, dest := range map[string]string{"GNU tar": unpack(t, tgz), "python": unpackPython(t, tgz)} {
				root := filepath.Join(dest, "rootfs")
				if got := leaves(t, root); !maps.Equal(got, tt.files) {
					t.Errorf("%s: files %v, want %v", tool, got, tt.files)
				}
			}
			checkLinks(t, filepath.Join(unpack(t, tgz), "rootfs"), tt.same, nil)
			if _, err := os.Lstat("/elsewhere"); err == nil {
				t.Errorf("/elsewhere exists")
			}
		})
	}
}

// leaves maps each non-directory under root to its content, or its target
// for a symlink.
func leaves(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for p := range tree(t, root) {
		full := filepath.Join(root, p)
		fi, err := os.Lstat(full)
		switch {
		case err != nil:
			t.Fatal(err)
		case fi.IsDir():
		case fi.Mode()&os.ModeSymlink != 0:
			got[p], _ = os.Readlink(full)
		default:
			b, _ := os.ReadFile(full)
			got[p] = string(b)
		}
	}
	return got
}
