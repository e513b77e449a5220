// Package writeback hands a file's new bytes to the kernel for writing
// out while more are still being written, so that the fsync that ends
// the file (before its rename) finds little left and does not stall the
// work that wrote it.
package writeback

import "os"

// Step is how many new bytes a Tracker lets pass before it hands them to
// the kernel.
const Step = 8 << 20

// Tracker starts the writeback of f's bytes every Step bytes written in
// order from offset 0.
type Tracker struct {
	f               *os.File
	written, kicked int64
}

// New tracks the writes to f, which starts empty.
func New(f *os.File) *Tracker { return &Tracker{f: f} }

// Wrote records that n more bytes were written.
func (t *Tracker) Wrote(n int) {
	t.written += int64(n)
	if t.written-t.kicked >= Step {
		Start(t.f, t.kicked, t.written-t.kicked)
		t.kicked = t.written
	}
}
