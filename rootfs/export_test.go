package rootfs

// WithMemberSizes sets the cut thresholds of WithMembers, for tests and
// for the measurements of docs/format-v2.md that tuned them.
func WithMemberSizes(minRun, cutScale, maxRun int64) Option {
	return func(o *options) { o.minRun, o.cutScale, o.maxRun = minRun, cutScale, maxRun }
}
