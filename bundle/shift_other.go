//go:build !linux

package bundle

// shiftStart cannot shift a file's start in place on this system; Stream
// writes the stream again instead.
func (w *partWriter) shiftStart(delta int64) error { return errShiftUnsupported }
