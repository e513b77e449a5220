//go:build unix

package keys

import "syscall"

// openFlags keeps opening a FIFO from waiting for a writer (deaf to
// signals); the opened file's mode is then checked.
const openFlags = syscall.O_NONBLOCK
