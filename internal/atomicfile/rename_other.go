//go:build !linux

package atomicfile

// RenameNoReplace renames oldpath to newpath unless newpath exists; then
// it fails with an error for which errors.Is(err, fs.ErrExist) holds. It
// links newpath to oldpath, which fails if newpath exists, then removes
// oldpath.
func RenameNoReplace(oldpath, newpath string) error {
	return linkUnlink(oldpath, newpath)
}
