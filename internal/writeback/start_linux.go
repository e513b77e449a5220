package writeback

import (
	"os"

	"golang.org/x/sys/unix"
)

// Start asks the kernel to start writing n bytes of f at off to disk
// without waiting for them (sync_file_range). It is only a hint:
// durability still comes from the fsync.
func Start(f *os.File, off, n int64) {
	control(f, func(fd int) {
		unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

// drop waits until n bytes of f at off are written out, then drops them
// from the page cache. It is not a durability point: the fsync is.
func drop(f *os.File, off, n int64) {
	control(f, func(fd int) {
		unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
		unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
	})
}

// Forget tells the kernel that n bytes of f at off will not be read
// again by this process: their pages, once clean (a file fsynced when
// written), leave the page cache. A hint only; reading them again still
// works, from disk.
func Forget(f *os.File, off, n int64) {
	control(f, func(fd int) {
		unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
	})
}

func control(f *os.File, fn func(fd int)) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { fn(int(fd)) })
	}
}
