package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
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

// TooManyPartsError says a bundle needs more data parts than MaxParts, or
// than Reed-Solomon parity covers with its parity parts (at most
// MaxShards in all).
type TooManyPartsError struct {
	Size      int64 // bytes of the whole bundle
	Estimated bool  // Size is an estimate made before conversion
	PartSize  int64
	Parity    int // parity parts asked for
	Parts     int // data parts needed
}

// Limit is the most data parts allowed with e.Parity parity parts.
func (e *TooManyPartsError) Limit() int { return maxDataParts(e.Parity) }

func (e *TooManyPartsError) Error() string {
	about := ""
	if e.Estimated {
		about = "about "
	}
	msg := fmt.Sprintf("a bundle of %s%d bytes needs %d parts of %d bytes; at most %d parts are allowed",
		about, e.Size, e.Parts, e.PartSize, e.Limit())
	if e.Parity > 0 && e.Limit() < MaxParts {
		msg += fmt.Sprintf(" with %d parity parts (Reed-Solomon parity covers at most %d parts in all)", e.Parity, MaxShards)
	}
	return msg
}

// HeadTooLargeError says a bundle's SHA256SUMS or manifest.json would be
// larger than readers accept (manifest.MaxSumsSize, MaxManifestSize):
// too many images or members for one bundle.
type HeadTooLargeError struct {
	Name   string // manifest.SumsName or manifest.ManifestName
	Size   int    // bytes it would take
	Limit  int
	Images int // images in the bundle
}

func (e *HeadTooLargeError) Error() string {
	return fmt.Sprintf("the bundle's %s would be %d bytes (%d images); readers accept at most %d bytes: nothing was written",
		e.Name, e.Size, e.Images, e.Limit)
}

// SplitError is a part size and parity count that cannot work together,
// whatever the bundle's size.
type SplitError struct {
	PartSize int64
	Parity   int
	Reason   string
}

func (e *SplitError) Error() string { return e.Reason }

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

// CheckSplit checks a part size and a parity count on their own, before
// anything is known of the bundle's size: no split (0) or at least
// MinPartSize bytes, parity only with a split and at most MaxShards-1
// parity parts. Failures are *SplitError.
func CheckSplit(partSize int64, parity int) error {
	fail := func(format string, args ...any) error {
		return &SplitError{PartSize: partSize, Parity: parity, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case partSize < 0 || partSize > 0 && partSize < MinPartSize:
		return fail("part size %d is below the minimum of %d bytes (one tar block)", partSize, MinPartSize)
	case parity < 0:
		return fail("parity %d: want a count of 0 or more parity parts", parity)
	case parity > 0 && partSize == 0:
		return fail("parity parts protect the parts of a split bundle; give a part size too")
	case parity >= MaxShards:
		return fail("%d parity parts: Reed-Solomon parity covers at most %d parts in all, data parts included; use at most %d", parity, MaxShards, MaxShards-1)
	}
	return nil
}

// CheckSplitName tells whether a bundle written as out can be split into
// parts of partSize bytes (0: not split): the part index lists its name,
// which must then hold no slash, backslash or newline (see CheckIndexBase).
func CheckSplitName(out string, partSize int64) error {
	if partSize == 0 {
		return nil
	}
	return CheckIndexBase(filepath.Base(BaseName(out)))
}

// CheckParts fails with a *TooManyPartsError when a bundle of size bytes
// would need more data parts of partSize bytes than MaxParts, or than
// parity parity parts allow; estimated says size is an estimate.
func CheckParts(size, partSize int64, parity int, estimated bool) error {
	if n := PartsNeeded(size, partSize); n > maxDataParts(parity) {
		return &TooManyPartsError{Size: size, Estimated: estimated, PartSize: partSize, Parity: parity, Parts: n}
	}
	return nil
}

// maxDataParts is the most data parts a bundle with parity parity parts
// may have.
func maxDataParts(parity int) int {
	if parity > 0 {
		return min(MaxParts, MaxShards-parity)
	}
	return MaxParts
}
