package rootfs_test

import (
	"archive/tar"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/internal/imagetest"
)

// paxAllowed are the PAX records tar.Writer adds for values USTAR cannot hold.
var paxAllowed = map[string]bool{"path": true, "linkpath": true, "size": true, "uid": true, "gid": true, "mtime": true}

// checkListing asserts the rules every produced tar follows, whatever the image.
func checkListing(t *testing.T, entries []entry) {
	t.Helper()
	if len(entries) < 2 || entries[0].hdr.Name != "metadata.json" || entries[1].hdr.Name != "rootfs/" ||
		entries[1].hdr.Typeflag != tar.TypeDir || entries[1].hdr.Mode != 0o755 {
		t.Fatalf("tar must start with metadata.json and rootfs/ (dir, 0755): %v", names(entries[:min(len(entries), 2)]))
	}
	seen := map[string]byte{}
	for i, e := range entries {
		h := e.hdr
		if i > 0 && !strings.HasPrefix(h.Name, "rootfs/") {
			t.Errorf("%s: not under rootfs/", h.Name)
		}
		if clean := path.Clean(h.Name); path.IsAbs(h.Name) || strings.HasPrefix(clean, "..") || clean != strings.TrimSuffix(h.Name, "/") {
			t.Errorf("%s: unclean path", h.Name)
		}
		if strings.Contains(h.Name, ".wh.") {
			t.Errorf("%s: whiteout marker", h.Name)
		}
		if strings.HasPrefix(h.Name, "rootfs/dev/") && h.Name != "rootfs/dev/" {
			t.Errorf("%s: entry under /dev", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		default:
			t.Errorf("%s: type %q", h.Name, h.Typeflag)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: uname %q gname %q, want empty", h.Name, h.Uname, h.Gname)
		}
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: atime %v ctime %v, want none", h.Name, h.AccessTime, h.ChangeTime)
		}
		for k := range h.PAXRecords {
			if !paxAllowed[k] {
				t.Errorf("%s: PAX record %s", h.Name, k)
			}
		}
		if h.Typeflag == tar.TypeLink {
			if typ, ok := seen[strings.TrimSuffix(h.Linkname, "/")]; !ok || typ == tar.TypeDir {
				t.Errorf("%s: hardlink to %s, which is no earlier file", h.Name, h.Linkname)
			}
		}
		name := strings.TrimSuffix(h.Name, "/")
		if _, dup := seen[name]; dup {
			t.Errorf("%s: written twice", h.Name)
		}
		seen[name] = h.Typeflag
	}
}

func names(entries []entry) []string {
	var n []string
	for _, e := range entries {
		n = append(n, e.hdr.Name)
	}
	return n
}

func TestWriteEdgeCaseListing(t *testing.T) {
	tgz, _ := write(t, imagetest.EdgeCase(t))
	entries := list(t, tgz)
	checkListing(t, entries)

	byName := map[string]*tar.Header{}
	for _, e := range entries {
		byName[e.hdr.Name] = e.hdr
	}
	for _, name := range []string{"metadata.json", "rootfs/"} {
		if h := byName[name]; !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v owner %d:%d, want Unix 0 and 0:0", name, h.ModTime, h.Uid, h.Gid)
		}
	}
	if h := byName["rootfs/dev/"]; h == nil || h.Typeflag != tar.TypeDir {
		t.Errorf("rootfs/dev/ directory missing")
	}
	if h := byName["rootfs/"+imagetest.LongName]; h == nil || h.Format != tar.FormatPAX || h.PAXRecords["path"] == "" {
		t.Errorf("long name not stored with a PAX path record: %+v", h)
	}
	if h := byName["rootfs/home/user/.profile"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("numeric owner lost: %+v", h)
	}
	for _, want := range []string{"rootfs/bin/sh", "rootfs/bin/sh-hard", "rootfs/usr/lib/libc.so.6", "rootfs/usr/bin/ld-hard"} {
		if byName[want] == nil {
			t.Errorf("%s missing", want)
		}
	}
	// The cross-layer link must come right after its target.
	for i, e := range entries {
		if e.hdr.Name == "rootfs/usr/bin/ld-hard" && entries[i-1].hdr.Name != "rootfs/usr/lib/libc.so.6" {
			t.Errorf("ld-hard follows %s, want its target", entries[i-1].hdr.Name)
		}
	}
}
