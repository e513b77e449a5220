package writeback

import (
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// diskFile creates a file on the repository's file system: the page
// cache of tmpfs (where t.TempDir may live) cannot drop pages.
func diskFile(t *testing.T) *os.File {
	t.Helper()
	dir, err := os.MkdirTemp(".", ".test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Fatalf("%s is on tmpfs: the test needs a disk-backed file system", dir)
	}
	f, err := os.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// resident is the fraction of the pages of f's bytes [off, off+n) in the
// page cache.
func resident(t *testing.T, f *os.File, off, n int64) float64 {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), off, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := int64(os.Getpagesize())
	vec := make([]byte, (n+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec))
}

func write(t *testing.T, f *os.File, tr *Tracker, steps int) {
	t.Helper()
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i)
	}
	for range steps * Step / len(b) {
		n, err := f.Write(b)
		if err != nil {
			t.Fatal(err)
		}
		tr.Wrote(n)
	}
}

// TestDropBehind: with DropBehind, the steps before the last two leave
// the page cache as the writer goes on; without it they stay.
func TestDropBehind(t *testing.T) {
	dropped, kept := diskFile(t), diskFile(t)
	write(t, dropped, New(dropped, DropBehind()), 4)
	write(t, kept, New(kept), 4)
	if r := resident(t, dropped, 0, 3*Step); r > 0.1 {
		t.Errorf("DropBehind: %.0f%% of the first three steps still cached, want them dropped", 100*r)
	}
	if r := resident(t, dropped, 3*Step, Step); r < 0.9 {
		t.Errorf("DropBehind: %.0f%% of the last step cached, want it kept until the next step", 100*r)
	}
	if r := resident(t, kept, 0, 4*Step); r < 0.9 {
		t.Errorf("without DropBehind: %.0f%% of the file cached, want all of it", 100*r)
	}
	b := make([]byte, 4*Step)
	if _, err := dropped.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		if b[i] != byte(i%(1<<20)) {
			t.Fatalf("byte %d reads %d after the drop, want %d", i, b[i], byte(i%(1<<20)))
		}
	}
}

// TestForget: the clean pages of the range given leave the page cache,
// the others stay.
func TestForget(t *testing.T) {
	f := diskFile(t)
	write(t, f, New(f), 2)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	Forget(f, 0, Step)
	if r := resident(t, f, 0, Step); r > 0.1 {
		t.Errorf("%.0f%% of the forgotten range still cached", 100*r)
	}
	if r := resident(t, f, Step, Step); r < 0.9 {
		t.Errorf("%.0f%% of the rest cached, want all of it", 100*r)
	}
}
