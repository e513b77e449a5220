package rootfs

import (
	"runtime"

	"github.com/klauspost/pgzip"
)

// FormatVersion identifies the bytes Write produces for a given image and
// options; it changes whenever output bytes change. Callers caching output
// key it on the image digest and OutputSettings, which includes it.
const FormatVersion = 2

// Defaults of the options.
const (
	DefaultLevel     = pgzip.DefaultCompression
	DefaultBlockSize = 1 << 20
)

// Option configures Write.
type Option func(*options)

type options struct {
	concurrency  int
	level        int
	blockSize    int
	progress     func(int64)
	warn         func(Warning)
	lint         func(Lint)
	members      func(Member) // nil: one pgzip stream
	memberOutput func(Member, []byte) error
	source       MemberSource // with members: runs compressed before
	memo         *LayerMemo   // with a source: layers shared with other conversions
	minRun       int64
	cutScale     int64
	maxRun       int64
	pieceSize    int64
}

func makeOptions(opts []Option) options {
	o := options{
		concurrency: runtime.GOMAXPROCS(0),
		level:       DefaultLevel,
		blockSize:   DefaultBlockSize,
		progress:    func(int64) {},
		warn:        func(Warning) {},
		lint:        func(Lint) {},
		minRun:      MemberMinRun,
		cutScale:    MemberCutScale,
		maxRun:      MemberMaxRun,
		pieceSize:   MemberPieceSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithConcurrency sets how many gzip blocks are compressed in parallel.
// Default GOMAXPROCS; values below 1 mean the default. It does not change
// the output bytes.
func WithConcurrency(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.concurrency = n
		}
	}
}

// WithLevel sets the gzip compression level, from pgzip.HuffmanOnly (-2)
// to pgzip.BestCompression (9). Default DefaultLevel (pgzip's default,
// which klauspost/compress runs as its level 5, not 6: the two differ).
func WithLevel(n int) Option {
	return func(o *options) { o.level = n }
}

// WithBlockSize sets the uncompressed size of each independently compressed
// gzip block. Default DefaultBlockSize (1 MiB); memory use is about
// 2 × block size × concurrency.
func WithBlockSize(n int) Option {
	return func(o *options) { o.blockSize = n }
}

// WithProgress has fn called with the number of uncompressed tar bytes
// produced since its last call: about every MiB and once at the end, so
// the calls add up to the tar size. fn runs on Write's
// goroutine and should return quickly.
func WithProgress(fn func(uncompressedBytes int64)) Option {
	return func(o *options) {
		if fn != nil {
			o.progress = fn
		}
	}
}

// WithWarning has fn called for every entry Write leaves out because the
// flattened tree cannot hold it (see [Warning]), in the order the entries
// are met. fn runs on Write's goroutine and should return quickly.
func WithWarning(fn func(Warning)) Option {
	return func(o *options) {
		if fn != nil {
			o.warn = fn
		}
	}
}

// WithLint has fn called once, after the last entry is written and before
// the gzip stream is finished, with what the lint found in the flattened
// image (see [Lint]); not called when Write fails. The checks run on the
// entries as they are written: no second pass over the layers.
func WithLint(fn func(Lint)) Option {
	return func(o *options) {
		if fn != nil {
			o.lint = fn
		}
	}
}
