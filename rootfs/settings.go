package rootfs

import "fmt"

// OutputSettings names everything that decides the bytes Write produces
// for a given image besides the image itself: FormatVersion and the
// options that change the output (level, block size, members). Two calls give the
// same string exactly when their output bytes are the same, so caches of
// Write's output key on it.
func OutputSettings(opts ...Option) string {
	o := makeOptions(opts)
	if o.members != nil {
		// Members do not depend on the block size; they do on the cut rule.
		return fmt.Sprintf("rootfs-v%d level=%d members=%d,%d,%d,%d cut-at-layers", FormatVersion, o.level, o.minRun, o.cutScale, o.maxRun, o.pieceSize)
	}
	return fmt.Sprintf("rootfs-v%d level=%d block=%d", FormatVersion, o.level, o.blockSize)
}
