package rootfs_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// lint runs rootfs.Write and returns what the lint reported.
func lint(t *testing.T, img v1.Image) rootfs.Lint {
	t.Helper()
	var got *rootfs.Lint
	write(t, img, rootfs.WithLint(func(l rootfs.Lint) {
		if got != nil {
			t.Error("WithLint's function called twice")
		}
		got = &l
	}))
	if got == nil {
		t.Fatal("WithLint's function not called")
	}
	return *got
}

// brief lists findings as "check severity path", in order.
func brief(l rootfs.Lint) []string {
	var out []string
	for _, f := range l.Findings {
		out = append(out, fmt.Sprintf("%s %s /%s", f.Check, f.Severity, f.Path))
	}
	return out
}

func withUser(t *testing.T, user string, files ...imagetest.File) v1.Image {
	return imagetest.Configure(t, imagetest.Image(t, files), func(c *v1.Config) { c.User = user })
}

func TestLintEdgeCase(t *testing.T) {
	l := lint(t, imagetest.EdgeCase(t))
	want := []string{
		"setuid info /usr/bin/sudo",
		"setuid info /usr/bin/wall",
		"capability warning /usr/bin/ping",
		"owner info /opt/high-owned",
	}
	got := brief(l)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	for _, f := range l.Findings {
		switch f.Path {
		case "usr/bin/ping":
			for _, s := range []string{"cap_net_raw+ep", "setuid", "privileged"} {
				if !strings.Contains(f.Message, s) {
					t.Errorf("ping: %q does not say %q", f.Message, s)
				}
			}
		case "opt/high-owned":
			if !strings.Contains(f.Message, "uid 100000 gid 100000") || !strings.Contains(f.Message, "Garden") || !strings.Contains(f.Message, "chown") {
				t.Errorf("high-owned: %q", f.Message)
			}
		case "usr/bin/wall":
			if !strings.HasPrefix(f.Message, "setgid ") {
				t.Errorf("wall: %q", f.Message)
			}
		}
	}
	// Count what the tgz holds under rootfs/.
	tgz, _ := write(t, imagetest.EdgeCase(t))
	var files, size int64
	for _, e := range list(t, tgz)[2:] {
		files++
		size += int64(len(e.body))
	}
	if l.Files != files || l.Size != size {
		t.Errorf("files %d size %d, want %d and %d as in the tgz", l.Files, l.Size, files, size)
	}
}

func TestLintUser(t *testing.T) {
	passwd := imagetest.File{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\nnonroot:x:65532:65532::/home:/bin/false\n"}
	group := imagetest.File{Name: "etc/group", Body: "root:x:0:\nstaff:x:50:\n"}
	for _, tc := range []struct {
		name, user string
		files      []imagetest.File
		want       string // "check severity path: message part", "" for none
	}{
		{"empty user", "", nil, ""},
		{"name found", "nonroot", []imagetest.File{passwd}, ""},
		{"uid found", "65532", []imagetest.File{passwd}, ""},
		{"uid:gid numeric group", "65532:99", []imagetest.File{passwd}, ""},
		{"name:group found", "nonroot:staff", []imagetest.File{passwd, group}, ""},
		{"uid not found", "1000", []imagetest.File{passwd}, `user warning /etc/passwd: has no entry "1000"`},
		{"name not found", "app", []imagetest.File{passwd}, `user warning /etc/passwd: has no entry "app"`},
		{"no passwd", "65532", nil, "user warning /etc/passwd: missing, but metadata.json's user is \"65532\""},
		{"root without passwd", "0", []imagetest.File{group}, "user warning /etc/passwd: missing"},
		{"group not found", "nonroot:wheel", []imagetest.File{passwd, group}, `user warning /etc/group: has no entry "wheel"`},
		{"no group file", "nonroot:staff", []imagetest.File{passwd}, "user warning /etc/group: missing"},
		{"passwd is a symlink", "app", []imagetest.File{{Name: "etc/passwd", Type: '2', Linkname: "/nix/passwd"}}, "user info /etc/passwd: not a regular file"},
		{"passwd too large", "app", []imagetest.File{{Name: "etc/passwd", Body: strings.Repeat("#\n", rootfs.MaxUserFileSize) + "app:x:1:1::/:/bin/sh\n"}},
			"user info /etc/passwd: larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := append([]imagetest.File{imagetest.Dir("etc", 0o755)}, tc.files...)
			l := lint(t, withUser(t, tc.user, files...))
			var got []string
			for _, f := range l.Findings {
				got = append(got, fmt.Sprintf("%s %s /%s: %s", f.Check, f.Severity, f.Path, f.Message))
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("findings %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.want)):
				t.Errorf("findings %q, want one starting %q", got, tc.want)
			case tc.want != "" && strings.Contains(tc.want, "warning") && !strings.Contains(got[0], "; add "):
				t.Errorf("finding %q says nothing to do", got[0])
			}
		})
	}
}

func TestLintBounded(t *testing.T) {
	var files []imagetest.File
	for i := range rootfs.MaxFindingsPerCheck + 5 {
		files = append(files, imagetest.File{Name: fmt.Sprintf("bin/s%02d", i), Body: "x", Mode: 0o4755})
	}
	l := lint(t, imagetest.Image(t, files))
	if len(l.Findings) != rootfs.MaxFindingsPerCheck || l.Omitted[rootfs.CheckSetuid] != 5 {
		t.Errorf("%d findings, omitted %v; want %d and 5 setuid", len(l.Findings), l.Omitted, rootfs.MaxFindingsPerCheck)
	}
}

func TestLintSize(t *testing.T) {
	img := imagetest.Image(t, []imagetest.File{{Name: "a", Body: "12345"}, {Name: "b", Body: "678"}})
	if l := lint(t, img); len(l.Findings) != 0 || l.Files != 2 || l.Size != 8 {
		t.Errorf("small image: %+v", l)
	}
	defer rootfs.SetLarge(1, 1<<30)()
	l := lint(t, img)
	if got := brief(l); !slices.Equal(got, []string{"size info /"}) || !strings.Contains(l.Findings[0].Message, "2 files, 8 bytes unpacked") {
		t.Errorf("large file count: %q %v", got, l.Findings)
	}
}

func TestLintCapabilityNames(t *testing.T) {
	for _, tc := range []struct{ xattr, want string }{
		{imagetest.PingCapability, "cap_net_raw+ep"},
		{"\x00\x00\x00\x02" + "\x00\x04\x00\x00" + "\x00\x00\x00\x00" + "\x04\x00\x00\x00" + "\x00\x00\x00\x00", "cap_net_bind_service,cap_syslog+p"},
		{"\x01\x00\x00\x01" + "\x01\x00\x00\x00" + "\x00\x00\x00\x00", "cap_chown+ep"}, // revision 1, 32 bits
		{"\x01\x00\x00\x02", "(unreadable set)"},
	} {
		img := imagetest.Image(t, []imagetest.File{{Name: "bin/x", Body: "x", Xattrs: map[string]string{"security.capability": tc.xattr}}})
		l := lint(t, img)
		if len(l.Findings) != 1 || !strings.Contains(l.Findings[0].Message, "capability "+tc.want+" is dropped") {
			t.Errorf("%q: %v, want %s", tc.xattr, l.Findings, tc.want)
		}
	}
}
