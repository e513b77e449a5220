package rootfs

// SetLarge lowers the thresholds of CheckSize for a test and returns the
// function that restores them.
func SetLarge(files, size int64) (restore func()) {
	f, s := largeFiles, largeSize
	largeFiles, largeSize = files, size
	return func() { largeFiles, largeSize = f, s }
}
