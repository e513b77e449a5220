package rootfs

import "fmt"

// OutputSettings names everything that decides the bytes Write produces
// for a given image besides the image itself: FormatVersion and the
// options that change the output (level, block size). Two calls give the
// same string exactly when their output bytes are the same, so caches of
// Write's output key on it.
func OutputSettings(opts ...Option) string {
	o := makeOptions(opts)
	return fmt.Sprintf("rootfs-v%d level=%d block=%d", FormatVersion, o.level, o.blockSize)
}
