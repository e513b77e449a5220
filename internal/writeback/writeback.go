// Package writeback hands a file's new bytes to the kernel for writing
// out while more are still being written, so that the fsync that ends
// the file (before its rename) finds little left and does not stall the
// work that wrote it; and, for bytes this process will not read again,
// drops them from the page cache once they are on disk, so that writing
// or copying gigabytes neither evicts what other programs cache nor
// makes the kernel find a fresh page for every byte.
package writeback

import "os"

// Step is how many new bytes a Tracker lets pass before it hands them to
// the kernel.
const Step = 8 << 20

// Tracker starts the writeback of f's bytes every Step bytes written in
// order from offset 0.
type Tracker struct {
	f                        *os.File
	written, kicked, dropped int64
	dropBehind               bool
}

// Option configures a Tracker.
type Option func(*Tracker)

// DropBehind makes the Tracker also wait, at each Step, for the bytes it
// handed to the kernel at the Step before to be on disk, and drop them
// from the page cache. For a file nothing reads back while it is written
// (a bundle): its writer then goes at the disk's pace, at most two Steps
// ahead of it, which the fsync at the end would have waited for anyway.
func DropBehind() Option { return func(t *Tracker) { t.dropBehind = true } }

// New tracks the writes to f, which starts empty.
func New(f *os.File, opts ...Option) *Tracker {
	t := &Tracker{f: f}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Wrote records that n more bytes were written.
func (t *Tracker) Wrote(n int) {
	t.written += int64(n)
	if t.written-t.kicked < Step {
		return
	}
	Start(t.f, t.kicked, t.written-t.kicked)
	if t.dropBehind && t.kicked > t.dropped {
		drop(t.f, t.dropped, t.kicked-t.dropped)
		t.dropped = t.kicked
	}
	t.kicked = t.written
}
