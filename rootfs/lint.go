package rootfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Checks of the lint (docs/format.md section 5, "lint"): what makes a task
// fail or misbehave in Concourse after the image crossed.
const (
	CheckOwner      = "owner"      // a uid or gid above 65535 (info: older Garden runtimes only)
	CheckUser       = "user"       // metadata.json's user missing from /etc/passwd or /etc/group
	CheckCapability = "capability" // a security.capability xattr, lost on the S3 resource path
	CheckSetuid     = "setuid"     // a setuid or setgid file (info)
	CheckSize       = "size"       // a very large image or file count (info)
)

// Severities of a finding. Only SeverityWarning can refuse an image
// (export --lint error); SeverityInfo is worth knowing, not fixing.
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
)

// Limits of the lint.
const (
	// MaxFindingsPerCheck bounds the findings kept per check; the rest are
	// counted in Lint.Omitted.
	MaxFindingsPerCheck = 20
	// MaxUserFileSize bounds how much of /etc/passwd and /etc/group is read.
	MaxUserFileSize = 1 << 20
	// MaxID is the highest uid or gid every Concourse runtime maps.
	MaxID = 65535
	// LargeFiles and LargeSize are where CheckSize starts reporting.
	LargeFiles = 200_000
	LargeSize  = 8 << 30
)

// Finding is one thing the lint found in an image.
type Finding struct {
	Check    string // one of the Check constants
	Severity string // SeverityInfo or SeverityWarning
	Path     string // path in the image, relative to its root; "" for the whole image
	Message  string // what is wrong, and what to do
}

func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("%s: %s", f.Check, f.Message)
	}
	return fmt.Sprintf("%s: /%s: %s", f.Check, f.Path, f.Message)
}

// Lint is what the lint learned about one flattened image: the findings
// and the numbers that decide how much a worker must hold.
type Lint struct {
	Files    int64 // entries under rootfs/, directories and links included
	Size     int64 // bytes of the regular files under rootfs/
	Findings []Finding
	Omitted  map[string]int // findings left out per check beyond MaxFindingsPerCheck
}

// largeFiles and largeSize are LargeFiles and LargeSize; tests lower them.
var largeFiles, largeSize int64 = LargeFiles, LargeSize

// linter watches the entries the flattener writes (the top-most version of
// each path, once) and keeps what the checks need: the findings so far and
// at most MaxUserFileSize bytes of each of /etc/passwd and /etc/group.
type linter struct {
	report Lint
	files  map[string]*userFile // etc/passwd, etc/group
}

type userFile struct {
	seen    bool
	typ     byte
	buf     bytes.Buffer
	toolong bool
}

func newLinter() *linter {
	return &linter{files: map[string]*userFile{"etc/passwd": {}, "etc/group": {}}}
}

// see checks one entry about to be written and returns the reader its
// content must be copied from (the same one, or one that keeps a copy of
// /etc/passwd or /etc/group).
// wants reports whether see keeps hdr's content: a user file it reads.
func (l *linter) wants(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg && l.files[hdr.Name] != nil
}

func (l *linter) see(hdr *tar.Header, content io.Reader) io.Reader {
	l.report.Files++
	if uf := l.files[hdr.Name]; uf != nil {
		uf.seen, uf.typ = true, hdr.Typeflag
		if hdr.Typeflag == tar.TypeReg {
			uf.toolong = hdr.Size > MaxUserFileSize
			content = io.TeeReader(content, &limitedBuffer{&uf.buf, MaxUserFileSize})
		}
	}
	if hdr.Typeflag == tar.TypeLink || hdr.Typeflag == tar.TypeSymlink {
		return content // a hardlink shares its target's inode, owner and mode
	}
	if hdr.Typeflag == tar.TypeReg {
		l.report.Size += hdr.Size
	}
	if hdr.Uid > MaxID || hdr.Gid > MaxID {
		l.add(CheckOwner, SeverityInfo, hdr.Name, fmt.Sprintf(
			"owned by uid %d gid %d, above %d: tasks fail on Garden runtimes that map only ids 0-%d (guardian, concourse#1239, #1753; the containerd runtime runs it); if your workers run Garden, chown the files to ids below %d",
			hdr.Uid, hdr.Gid, MaxID, MaxID, MaxID+1))
	}
	if hdr.Typeflag == tar.TypeReg && hdr.Mode&0o6000 != 0 {
		what := "setuid"
		if hdr.Mode&0o4000 == 0 {
			what = "setgid"
		} else if hdr.Mode&0o2000 != 0 {
			what = "setuid and setgid"
		}
		l.add(CheckSetuid, SeverityInfo, hdr.Name, fmt.Sprintf(
			"%s (uid %d gid %d, mode %04o): keeps its bit in Concourse; listed for review, remove the bit if no task needs it",
			what, hdr.Uid, hdr.Gid, hdr.Mode&0o7777))
	}
	if v, ok := hdr.PAXRecords["SCHILY.xattr.security.capability"]; ok {
		l.add(CheckCapability, SeverityWarning, hdr.Name, fmt.Sprintf(
			"file capability %s is dropped on the way to the task (the S3 resource unpacks with plain tar xf, without --xattrs): the binary runs without it; make it setuid root (chmod u+s) or run the task privileged",
			capabilityNames(v)))
	}
	return content
}

// limitedBuffer keeps the first max bytes written to it and accepts the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *linter) add(check, severity, path, msg string) {
	n := 0
	for _, f := range l.report.Findings {
		if f.Check == check {
			n++
		}
	}
	if n >= MaxFindingsPerCheck {
		if l.report.Omitted == nil {
			l.report.Omitted = map[string]int{}
		}
		l.report.Omitted[check]++
		return
	}
	l.report.Findings = append(l.report.Findings, Finding{Check: check, Severity: severity, Path: path, Message: msg})
}

// finish runs the checks that need the whole image and returns the report.
func (l *linter) finish(user string) Lint {
	l.checkUser(user)
	if r := &l.report; r.Files > largeFiles || r.Size > largeSize {
		l.add(CheckSize, SeverityInfo, "", fmt.Sprintf(
			"%d files, %s unpacked: the S3 resource needs the tgz and its unpacked files on the worker's disk at once, and unprivileged tasks chown every file; a smaller image starts faster",
			r.Files, humanBytes(r.Size)))
	}
	return l.report
}

// checkUser checks metadata.json's user the way the containerd runtime
// resolves it (concourse#6836, #6054): the user part, a name or a number,
// must be an entry of /etc/passwd (a number as its uid), or the task fails
// with "user 'X' not found"; a group part that is a name must be an entry
// of /etc/group. A numeric group is used as is. An empty user (the
// runtime's default, root) is not checked.
func (l *linter) checkUser(user string) {
	if user == "" {
		return
	}
	u, g, hasGroup := strings.Cut(user, ":")
	if !l.lookup("etc/passwd", "user", u, user) {
		return
	}
	if hasGroup && g != "" && !isNumber(g) {
		l.lookup("etc/group", "group", g, user)
	}
}

// lookup reports whether name is an entry (by name, or by id when name is
// a number) of file, adding a finding when it is not or cannot be checked.
// It reports false when no later check should run.
func (l *linter) lookup(file, what, name, user string) bool {
	uf := l.files[file]
	consequence := fmt.Sprintf("the containerd runtime fails the task (%s '%s' not found, concourse#6836)", what, name)
	alternative := "or set the image's USER to a user the file has"
	if what == "group" {
		alternative = "or give the group as a number"
	}
	switch {
	case !uf.seen:
		l.add(CheckUser, SeverityWarning, file, fmt.Sprintf("missing, but metadata.json's user is %q: %s; add /%s with the %s %q, %s",
			user, consequence, file, what, name, alternative))
		return false
	case uf.typ != tar.TypeReg:
		l.add(CheckUser, SeverityInfo, file, fmt.Sprintf("not a regular file in the tgz (a link), so metadata.json's user %q was not checked against it", user))
		return false
	case uf.toolong:
		l.add(CheckUser, SeverityInfo, file, fmt.Sprintf("larger than %d bytes; only the first %d were searched for metadata.json's user %q", MaxUserFileSize, MaxUserFileSize, user))
	}
	if hasEntry(uf.buf.Bytes(), name) {
		return true
	}
	if !uf.toolong {
		l.add(CheckUser, SeverityWarning, file, fmt.Sprintf("has no entry %q, but metadata.json's user is %q: %s; add the %s to /%s, %s",
			name, user, consequence, what, file, alternative))
	}
	return false
}

// hasEntry reports whether a passwd or group file has a line whose first
// field is name or, when name is a number, whose third field (the id) is.
func hasEntry(data []byte, name string) bool {
	numeric := isNumber(name)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxUserFileSize)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if f[0] == name || numeric && len(f) > 2 && f[2] == name {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// capNames are the Linux capabilities by bit number (linux/capability.h).
var capNames = []string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
	"cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
	"cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control",
	"cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
}

// capabilityNames names the permitted capabilities of a security.capability
// value (struct vfs_cap_data: magic, then permitted and inheritable words),
// "+ep" when the effective bit is set, as getcap prints them.
func capabilityNames(v string) string {
	b := []byte(v)
	if len(b) < 12 {
		return "(unreadable set)"
	}
	magic := binary.LittleEndian.Uint32(b)
	perm := uint64(binary.LittleEndian.Uint32(b[4:]))
	if rev := magic &^ 1; (rev == 0x02000000 || rev == 0x03000000) && len(b) >= 20 {
		perm |= uint64(binary.LittleEndian.Uint32(b[12:])) << 32
	}
	var names []string
	for i := 0; i < 64; i++ {
		if perm&(1<<i) == 0 {
			continue
		}
		if i < len(capNames) {
			names = append(names, capNames[i])
		} else {
			names = append(names, "cap_"+strconv.Itoa(i))
		}
	}
	if len(names) == 0 {
		return "(empty set)"
	}
	s := strings.Join(names, ",")
	if magic&1 != 0 {
		s += "+ep"
	} else {
		s += "+p"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
