package stripe

import (
	"os"

	"golang.org/x/sys/unix"
)

// StartWriteback asks the kernel to start writing n bytes of f at off to
// disk without waiting for them (sync_file_range), so that writing out
// overlaps with the work still to do and the fsync before the rename finds
// little left. It is only a hint: durability still comes from that fsync.
func StartWriteback(f *os.File, off, n int64) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
		})
	}
}
