package bundle

import (
	"time"

	"github.com/airlockhq/airlock/manifest"
)

const (
	copyBufferSize = 1 << 20
	blockSize      = 512 // of tar
)

// Option configures Write.
type Option func(*options)

type options struct {
	partSize int64
	parity   int
	created  time.Time
	tool     string
	base     *manifest.Base
	fresh    *manifest.Freshness
	progress func(path string, n int64)
	format   int
	images   []manifest.Entry
	have     []manifest.Have
	noShift  bool // tests: fit a Stream's head slot by copying, never in place
}

func makeOptions(opts []Option) options {
	o := options{created: time.Now(), format: manifest.FormatV1}
	for _, opt := range opts {
		opt(&o)
	}
	o.created = o.created.UTC().Truncate(time.Second)
	return o
}

// WithPartSize splits the bundle into parts of n bytes (default 0: one file).
func WithPartSize(n int64) Option { return func(o *options) { o.partSize = n } }

// WithCreated sets the creation time recorded in the manifest and in every
// tar header (default: now). Fix it (SOURCE_DATE_EPOCH) for reproducible bundles.
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t } }

// WithBase records what a delta bundle was cut against in the manifest
// (docs/format.md section 5, Delta base); nil records none.
func WithBase(b *manifest.Base) Option { return func(o *options) { o.base = b } }

// WithFreshness records the bundle's channel, sequence and expiry in the
// manifest (docs/format.md section 5, Freshness).
func WithFreshness(f *manifest.Freshness) Option { return func(o *options) { o.fresh = f } }

// WithImages writes a format 2 bundle (docs/format-v2.md): images are
// its image objects, sorted by key, each assembled from member payloads,
// whose recipes and TGZSUMS the caller passes as payloads too (see
// manifest.RecipeBytes, manifest.TGZSums). No payload may carry an Image.
func WithImages(images []manifest.Entry) Option {
	return func(o *options) { o.format, o.images = manifest.FormatV2, images }
}

// WithHave records the members a format 2 delta uses but leaves out
// (docs/format-v2.md section 10), sorted by sha256; use with WithImages.
func WithHave(have []manifest.Have) Option { return func(o *options) { o.have = have } }

// WithTool records the writing program in the manifest.
func WithTool(name string) Option { return func(o *options) { o.tool = name } }

// WithProgress calls fn with the number of payload bytes written, as they
// are written, per entry path.
func WithProgress(fn func(path string, n int64)) Option {
	return func(o *options) { o.progress = fn }
}

// WithParity writes k Reed-Solomon parity parts beside a split bundle
// (default 0), so that any k lost or damaged parts can be rebuilt.
func WithParity(k int) Option { return func(o *options) { o.parity = k } }
