package imagetest

import (
	"archive/tar"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LongName is a file of [EdgeCase] whose path needs PAX: over 256 bytes,
// with a base name over 100.
var LongName = "usr/share/" + strings.Repeat("a-rather-long-directory-name/", 6) +
	strings.Repeat("long-file-name-", 8) + ".txt"

// EdgeCaseConfig is the config of [EdgeCase].
var EdgeCaseConfig = v1.Config{
	Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello world"},
	User:       "1000:1000",
	Entrypoint: []string{"/bin/sh", "-c"},
	Cmd:        []string{"echo hello"},
	WorkingDir: "/home/user",
}

// PingCapability is the security.capability xattr of the edge case's
// usr/bin/ping: cap_net_raw+ep, as setcap writes it (vfs_cap_data revision 2).
const PingCapability = "\x01\x00\x00\x02" + "\x00\x20\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// EdgeCase is a three-layer image exercising flattening corner cases; see
// [EdgeCaseLayers] for what it holds and what a correct flattening keeps.
func EdgeCase(t testing.TB) v1.Image {
	t.Helper()
	return Configure(t, Image(t, EdgeCaseLayers()...), func(c *v1.Config) {
		*c = EdgeCaseConfig
	})
}

// EdgeCaseLayers returns the layers of [EdgeCase], bottom first. Flattened,
// they must give:
//   - gone: etc/deleted.conf (whiteout), opt/opaque/old.txt (opaque dir),
//     data/orig (whiteout), gone/ and its file (whiteout of a directory)
//   - bin/sh-hard: same inode as bin/sh (hardlink within a layer)
//   - usr/bin/ld-hard: same inode as usr/lib/libc.so.6 (hardlink in an upper
//     layer to a lower layer's file)
//   - data/orig-link: regular file "original\n" (its target was deleted)
//   - bin/ls: "busybox v1\n", not linked to bin/busybox, which an upper
//     layer replaced with "busybox v2\n"
//   - symlinks bin/abs-sh -> /bin/sh, bin/rel-sh -> sh, usr/bin/up-sh -> ../../bin/sh
//   - usr/bin/sudo 04755, usr/bin/wall 02755 gid 5, tmp 01777
//   - usr/bin/ping with the file capability cap_net_raw+ep (dropped),
//     opt/high-owned owned by 100000:100000 (the lint reports both)
//   - home/user (0750) and home/user/.profile (0600) owned by 1000:1000
//     although their uname/gname say "daemon"
//   - device nodes and a FIFO (dev/null, dev/console, dev/sda, run/initctl),
//     a symlink and directories under dev/
//   - [LongName], and etc/issue stored as "./etc/issue"
//
// and paths the layers give conflicting types (docs/format.md section 7):
//   - moved/x, plain/x, hl/passwd (a hardlink to etc/passwd): a higher layer
//     puts them beneath a lower symlink moved -> /elsewhere, regular file
//     plain and symlink hl, which are left out; moved, plain, hl are
//     directories
//   - same -> /elsewhere stays a symlink; same/y, beneath it in the same
//     layer, is left out
//   - via-t and flat-t are left out: hardlinks to via/t and flat/t, where via
//     is a symlink to the directory real and flat a regular file
//   - swap1 a file replaced by a directory holding f; swap2 a directory
//     replaced by the file "file\n"
//   - wd/new only: a layer whites out wd, then adds wd/ and wd/new; wf is
//     "new\n": a layer whites out wf, then adds it again
//   - wx/new only: the layer above the whiteout of wx adds wx/new
//   - sd/new only: a layer replaces the directory sd (holding sd/old) with a
//     symlink, the next one with a directory again
func EdgeCaseLayers() [][]File {
	const hard, sym = tar.TypeLink, tar.TypeSymlink
	daemon := func(f File) File {
		f.Uid, f.Gid, f.Uname, f.Gname = 1000, 1000, "daemon", "daemon"
		return f
	}
	base := []File{
		Dir("bin", 0o755), Dir("data", 0o755), Dir("dev", 0o755), Dir("etc", 0o755),
		Dir("gone", 0o755), Dir("home", 0o755), daemon(Dir("home/user", 0o750)),
		Dir("opt", 0o755), Dir("opt/opaque", 0o755), Dir("run", 0o755),
		Dir("tmp", 0o1777), Dir("usr", 0o755), Dir("usr/bin", 0o755), Dir("usr/lib", 0o755),
		{Name: "bin/sh", Body: "#!/bin/sh\n", Mode: 0o755},
		{Name: "bin/sh-hard", Type: hard, Linkname: "bin/sh", Mode: 0o755},
		{Name: "bin/busybox", Body: "busybox v1\n", Mode: 0o755},
		{Name: "bin/ls", Type: hard, Linkname: "bin/busybox", Mode: 0o755},
		{Name: "data/orig", Body: "original\n"},
		{Name: "data/orig-link", Type: hard, Linkname: "data/orig"},
		{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"},
		{Name: "etc/deleted.conf", Body: "deleted\n"},
		{Name: "gone/file", Body: "gone\n"},
		daemon(File{Name: "home/user/.profile", Body: "export PS1='$ '\n", Mode: 0o600}),
		{Name: "opt/opaque/old.txt", Body: "old\n"},
		{Name: "usr/bin/sudo", Body: "sudo\n", Mode: 0o4755},
		{Name: "usr/bin/wall", Body: "wall\n", Mode: 0o2755, Gid: 5},
		{Name: "usr/bin/ping", Body: "ping\n", Mode: 0o755,
			Xattrs: map[string]string{"security.capability": PingCapability}},
		{Name: "opt/high-owned", Body: "high\n", Uid: 100000, Gid: 100000},
		{Name: "usr/lib/libc.so.6", Body: "libc\n", Mode: 0o755},
		{Name: LongName, Body: "long\n"},
		{Name: "dev/null", Type: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
		{Name: "dev/console", Type: tar.TypeChar, Devmajor: 5, Devminor: 1, Mode: 0o600},
		{Name: "dev/sda", Type: tar.TypeBlock, Devmajor: 8, Mode: 0o660},
		{Name: "dev/stdout", Type: sym, Linkname: "/proc/self/fd/1"},
		Dir("dev/shm", 0o1777),
		{Name: "run/initctl", Type: tar.TypeFifo, Mode: 0o600},

		{Name: "moved", Type: sym, Linkname: "/elsewhere"},
		{Name: "plain", Body: "plain\n"},
		{Name: "hl", Type: sym, Linkname: "/elsewhere"},
		Dir("real", 0o755),
		{Name: "real/t", Body: "t\n"},
		{Name: "via", Type: sym, Linkname: "real"},
		{Name: "flat", Body: "flat\n"},
		{Name: "swap1", Body: "swap1\n"},
		Dir("swap2", 0o755),
		{Name: "swap2/f", Body: "old\n"},
		Dir("wd", 0o755),
		{Name: "wd/old", Body: "old\n"},
		{Name: "wf", Body: "old\n"},
		Dir("wx", 0o755),
		{Name: "wx/old", Body: "old\n"},
		Dir("sd", 0o755),
		{Name: "sd/old", Body: "old\n"},
	}
	middle := []File{
		Whiteout("etc/deleted.conf"),
		Opaque("opt/opaque"),
		{Name: "opt/opaque/new.txt", Body: "new\n"},
		Whiteout("data/orig"),
		Whiteout("gone"),
		{Name: "usr/bin/ld-hard", Type: hard, Linkname: "usr/lib/libc.so.6", Mode: 0o755},
		{Name: "bin/abs-sh", Type: sym, Linkname: "/bin/sh"},
		{Name: "bin/rel-sh", Type: sym, Linkname: "sh"},
		{Name: "usr/bin/up-sh", Type: sym, Linkname: "../../bin/sh"},
		{Name: "etc/hostname", Body: "edge\n"},

		{Name: "moved/x", Body: "x\n"},
		{Name: "plain/x", Body: "x\n"},
		{Name: "hl/passwd", Type: hard, Linkname: "etc/passwd"},
		{Name: "same", Type: sym, Linkname: "/elsewhere"},
		{Name: "same/y", Body: "y\n"},
		Dir("swap1", 0o755),
		{Name: "swap1/f", Body: "f\n"},
		{Name: "swap2", Body: "file\n"},
		Whiteout("wd"),
		Dir("wd", 0o755),
		{Name: "wd/new", Body: "new\n"},
		Whiteout("wf"),
		{Name: "wf", Body: "new\n"},
		Whiteout("wx"),
		{Name: "sd", Type: sym, Linkname: "/elsewhere"},
	}
	top := []File{
		{Name: "bin/busybox", Body: "busybox v2\n", Mode: 0o755},
		{Name: "etc/motd", Body: "hello\n"},
		{Name: "./etc/issue", Body: "Edge Linux\n"},

		{Name: "via-t", Type: hard, Linkname: "via/t"},
		{Name: "flat-t", Type: hard, Linkname: "flat/t"},
		{Name: "wx/new", Body: "new\n"},
		Dir("sd", 0o755),
		{Name: "sd/new", Body: "new\n"},
	}
	return [][]File{base, middle, top}
}
