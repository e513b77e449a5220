package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// ExistsError says a bundle file is in the way of the one being written.
type ExistsError struct {
	Path string
	// Appeared is set when Path appeared while the bundle was being
	// written, most likely from another export to the same name.
	Appeared bool
}

func (e *ExistsError) Error() string {
	if e.Appeared {
		return e.Path + " appeared while this export ran; another export?"
	}
	return e.Path + " already exists"
}

// Is makes errors.Is(err, fs.ErrExist) hold.
func (e *ExistsError) Is(target error) bool { return target == fs.ErrExist }

// TooManyPartsError says a bundle needs more parts than MaxParts.
type TooManyPartsError struct {
	Size      int64 // bytes of the whole bundle
	Estimated bool  // Size is an estimate made before conversion
	PartSize  int64
	Parts     int // parts needed
}

func (e *TooManyPartsError) Error() string {
	about := ""
	if e.Estimated {
		about = "about "
	}
	return fmt.Sprintf("a bundle of %s%d bytes needs %d parts of %d bytes; at most %d parts are allowed",
		about, e.Size, e.Parts, e.PartSize, MaxParts)
}

// WriteError is a failure writing a bundle file; errors.Is(err,
// syscall.ENOSPC) tells a full disk.
type WriteError struct {
	Path string // the bundle file or part being written
	Err  error
}

func (e *WriteError) Error() string {
	if errors.Is(e.Err, syscall.ENOSPC) {
		return "no space left on device writing " + e.Path
	}
	return "writing " + e.Path + ": " + e.Err.Error()
}

func (e *WriteError) Unwrap() error { return e.Err }

// PartsNeeded is how many parts of partSize bytes a bundle of size bytes
// takes; 1 when partSize is 0 (no split).
func PartsNeeded(size, partSize int64) int {
	if partSize <= 0 || size <= partSize {
		return 1
	}
	return int((size + partSize - 1) / partSize)
}

// CheckParts fails with a *TooManyPartsError when a bundle of size bytes
// would need more than MaxParts parts of partSize bytes; estimated says
// size is an estimate.
func CheckParts(size, partSize int64, estimated bool) error {
	if n := PartsNeeded(size, partSize); n > MaxParts {
		return &TooManyPartsError{Size: size, Estimated: estimated, PartSize: partSize, Parts: n}
	}
	return nil
}
