package rootfs

// SetLarge lowers the thresholds of CheckSize for a test and returns the
// function that restores them.
func SetLarge(files, size int64) (restore func()) {
	f, s := largeFiles, largeSize
	largeFiles, largeSize = files, size
	return func() { largeFiles, largeSize = f, s }
}

// WithMemberSizes sets the cut thresholds of WithMembers, for tests and
// for the measurements of docs/format-v2.md that tuned them.
func WithMemberSizes(minRun, cutScale, maxRun, pieceSize int64) Option {
	return func(o *options) { o.minRun, o.cutScale, o.maxRun, o.pieceSize = minRun, cutScale, maxRun, pieceSize }
}
