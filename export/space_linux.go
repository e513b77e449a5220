package export

import "golang.org/x/sys/unix"

func freeSpace(dir string) (free, fsid uint64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, false
	}
	var s unix.Stat_t
	if err := unix.Stat(dir, &s); err != nil {
		return 0, 0, false
	}
	return st.Bavail * uint64(st.Bsize), s.Dev, true
}
