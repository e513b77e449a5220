package bundle

import (
	"os"

	"golang.org/x/sys/unix"
)

// shiftStart grows (delta > 0) or shrinks (delta < 0) the start of an
// unsplit stream's file by |delta| bytes in place, leaving the bytes after
// it as they are: the file system inserts a hole (zeros) or drops the
// first bytes without moving data (fallocate INSERT_RANGE, COLLAPSE_RANGE;
// ext4 and XFS). delta is a multiple of headSlot, which both need to be a
// multiple of the block size. It fails, changing nothing, where the file
// system cannot.
func (w *partWriter) shiftStart(delta int64) error {
	if w.partSize > 0 || len(w.files) != 1 {
		return errShiftUnsupported
	}
	f, err := os.OpenFile(w.files[0].Name(), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if delta > 0 {
		err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_INSERT_RANGE, 0, delta)
	} else {
		err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_COLLAPSE_RANGE, 0, -delta)
	}
	if err != nil {
		return err
	}
	w.total += delta
	w.written += delta
	return nil
}
