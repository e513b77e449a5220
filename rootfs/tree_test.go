package rootfs_test

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/imagetest"
)

// node is what a path of the unpacked rootfs must be.
type node struct {
	typ      fs.FileMode // 0 (regular), fs.ModeDir or fs.ModeSymlink
	perm     uint32      // st_mode & 07777; 0 leaves it unchecked
	body     string      // regular files
	link     string      // symlink target
	uid, gid uint32
}

var (
	dir  = node{typ: fs.ModeDir, perm: 0o755}
	idir = node{typ: fs.ModeDir} // created by tar for a deeper entry
)

func file(body string, perm uint32) node { return node{body: body, perm: perm} }
func symlink(target string) node         { return node{typ: fs.ModeSymlink, link: target} }

func edgeCaseTree() map[string]node {
	user := func(n node) node { n.uid, n.gid = 1000, 1000; return n }
	t := map[string]node{
		"bin": dir, "data": dir, "dev": dir, "etc": dir, "home": dir,
		"home/user": user(node{typ: fs.ModeDir, perm: 0o750}),
		"opt":       dir, "opt/opaque": dir, "run": dir,
		"tmp": {typ: fs.ModeDir, perm: 0o1777}, "usr": dir, "usr/bin": dir, "usr/lib": dir,

		"bin/sh":             file("#!/bin/sh\n", 0o755),
		"bin/sh-hard":        file("#!/bin/sh\n", 0o755),
		"bin/busybox":        file("busybox v2\n", 0o755),
		"bin/ls":             file("busybox v1\n", 0o755),
		"bin/abs-sh":         symlink("/bin/sh"),
		"bin/rel-sh":         symlink("sh"),
		"data/orig-link":     file("original\n", 0o644),
		"etc/passwd":         file("root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n", 0o644),
		"etc/hostname":       file("edge\n", 0o644),
		"etc/motd":           file("hello\n", 0o644),
		"etc/issue":          file("Edge Linux\n", 0o644),
		"home/user/.profile": user(file("export PS1='$ '\n", 0o600)),
		"opt/opaque/new.txt": file("new\n", 0o644),
		"opt/high-owned":     {body: "high\n", perm: 0o644, uid: 100000, gid: 100000},
		"usr/bin/sudo":       file("sudo\n", 0o4755),
		"usr/bin/wall":       {body: "wall\n", perm: 0o2755, gid: 5},
		"usr/bin/ping":       file("ping\n", 0o755),
		"usr/bin/ld-hard":    file("libc\n", 0o755),
		"usr/bin/up-sh":      symlink("../../bin/sh"),
		"usr/lib/libc.so.6":  file("libc\n", 0o755),
		imagetest.LongName:   file("long\n", 0o644),

		"moved": idir, "moved/x": file("x\n", 0o644),
		"plain": idir, "plain/x": file("x\n", 0o644),
		"hl": idir, "hl/passwd": file("root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n", 0o644),
		"same": symlink("/elsewhere"),
		"real": dir, "real/t": file("t\n", 0o644), "via": symlink("real"),
		"flat":  file("flat\n", 0o644),
		"swap1": dir, "swap1/f": file("f\n", 0o644),
		"swap2": file("file\n", 0o644),
		"wd":    dir, "wd/new": file("new\n", 0o644),
		"wf": file("new\n", 0o644),
		"wx": idir, "wx/new": file("new\n", 0o644),
		"sd": dir, "sd/new": file("new\n", 0o644),
	}
	for d := path.Dir(imagetest.LongName); d != "usr"; d = path.Dir(d) {
		t[d] = idir
	}
	return t
}

func TestWriteEdgeCaseUnpacksAsFlattened(t *testing.T) {
	tgz, _ := write(t, imagetest.EdgeCase(t))
	root := filepath.Join(unpack(t, tgz), "rootfs")

	want := edgeCaseTree()
	if got := tree(t, root); !maps.Equal(got, keys(want)) {
		t.Errorf("unpacked paths:\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for p, n := range want {
		checkNode(t, filepath.Join(root, p), n)
	}
	if fi, err := os.Stat(filepath.Join(root, "bin/sh")); err != nil || !fi.ModTime().Equal(imagetest.Epoch) {
		t.Errorf("bin/sh mtime: %v, %v; want %v from the layer", fi.ModTime(), err, imagetest.Epoch)
	}
	checkLinks(t, root, [][2]string{{"bin/sh", "bin/sh-hard"}, {"usr/lib/libc.so.6", "usr/bin/ld-hard"}, {"etc/passwd", "hl/passwd"}},
		[][2]string{{"bin/busybox", "bin/ls"}})
}

func TestWriteMetadataJSON(t *testing.T) {
	tgz, md := write(t, imagetest.EdgeCase(t))
	root := unpack(t, tgz)

	if got := slices.Sorted(maps.Keys(tree(t, root))); len(got) == 0 || got[0] != "metadata.json" {
		t.Errorf("top level starts with %v, want metadata.json", got[:min(len(got), 2)])
	}
	b, err := os.ReadFile(filepath.Join(root, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cmd":["echo hello"],"entrypoint":["/bin/sh","-c"],` +
		`"env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello world"],"user":"1000:1000"}` + "\n"
	if string(b) != want {
		t.Errorf("metadata.json:\n got %s\nwant %s", b, want)
	}
	var fromFile concourse.Metadata
	if err := json.Unmarshal(b, &fromFile); err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, fromFile, md) {
		t.Errorf("Write returned %+v, file holds %+v", md, fromFile)
	}
}

func keys(m map[string]node) map[string]bool {
	k := map[string]bool{}
	for p := range m {
		k[p] = true
	}
	return k
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func checkNode(t *testing.T, p string, want node) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if got := fi.Mode().Type(); got != want.typ {
		t.Errorf("%s: type %v, want %v", p, got, want.typ)
	}
	if got := st.Mode & 0o7777; want.perm != 0 && got != want.perm {
		t.Errorf("%s: mode %#o, want %#o", p, got, want.perm)
	}
	if st.Uid != want.uid || st.Gid != want.gid {
		t.Errorf("%s: owner %d:%d, want %d:%d", p, st.Uid, st.Gid, want.uid, want.gid)
	}
	switch want.typ {
	case 0:
		if b, err := os.ReadFile(p); err != nil || string(b) != want.body {
			t.Errorf("%s: content %q (%v), want %q", p, b, err, want.body)
		}
	case fs.ModeSymlink:
		if got, err := os.Readlink(p); err != nil || got != want.link {
			t.Errorf("%s: link %q (%v), want %q", p, got, err, want.link)
		}
	}
}

// checkLinks asserts which pairs of paths under root share an inode.
func checkLinks(t *testing.T, root string, same, distinct [][2]string) {
	t.Helper()
	check := func(pair [2]string, want bool) {
		a, errA := os.Lstat(filepath.Join(root, pair[0]))
		b, errB := os.Lstat(filepath.Join(root, pair[1]))
		if errA != nil || errB != nil {
			t.Errorf("%v %v", errA, errB)
			return
		}
		if got := os.SameFile(a, b); got != want {
			t.Errorf("%s and %s same inode: %v, want %v", pair[0], pair[1], got, want)
		}
	}
	for _, p := range same {
		check(p, true)
	}
	for _, p := range distinct {
		check(p, false)
	}
}

func TestWriteEdgeCaseWarnings(t *testing.T) {
	_, got := writeWarnings(t, imagetest.EdgeCase(t))
	want := []string{"0 moved", "0 plain", "0 hl", "1 same/y", "2 flat-t", "2 via-t"}
	if !slices.Equal(got, want) {
		t.Errorf("warnings (layer path)\n got %q\nwant %q", got, want)
	}
}

// Python's tarfile checks every member against the folder as it goes: a
// member written through a symlink out of the folder is refused.
func TestWriteEdgeCaseUnpacksWithPython(t *testing.T) {
	tgz, _ := write(t, imagetest.EdgeCase(t))
	root := filepath.Join(unpackPython(t, tgz), "rootfs")
	want := edgeCaseTree()
	if got := tree(t, root); !maps.Equal(got, keys(want)) {
		t.Errorf("extracted paths:\n got %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}
