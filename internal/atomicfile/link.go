package atomicfile

import "os"

// linkUnlink gives newpath oldpath's file unless newpath exists: a hard
// link fails atomically when its name is taken.
func linkUnlink(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}
