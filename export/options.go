package export

import (
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/pgzip"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/release"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
)

// Option configures Run.
type Option func(*options)

type options struct {
	jobs        int
	partSize    int64
	parity      int
	created     time.Time
	tool        string
	events      func(Event)
	rootfs      []rootfs.Option
	cacheDir    string
	verifier    *provenance.Verifier
	policyFor   func(source.Target) provenance.Policy
	carry       bool
	compress    manifest.Compression
	lint        source.LintPolicy
	base        *manifest.Base
	binaries    []release.Binary
	seqKey      string            // the private key file beside which the sequence state lies; "" for none
	channel     string            // default: the key id
	validFor    time.Duration     // how long the bundle stays fresh
	fixedSeq    uint64            // a sequence given by the user instead of reserved; 0 for none
	previous    string            // with fixedSeq
	format      int               // bundle format: manifest.FormatV1 or FormatV2
	source      *memberSource     // format 2: members staged so far, by run; set by Run
	memo        *rootfs.LayerMemo // format 2: the layers several images of the run share; set by stageAll
	noReuse     bool              // format 2: compress every run (benchmarks)
	held        map[string]manifest.Have
	streamAbove int64 // distinct layer bytes from which format 2 streams (decideStreaming)
	stream      bool  // set by decideStreaming
	layerBytes  int64 // set by decideStreaming
}

func makeOptions(opts []Option) *options {
	o := &options{jobs: 2, created: time.Now(), events: func(Event) {}, compress: manifest.CompressionDefault, lint: source.LintWarn,
		format: manifest.FormatV1, streamAbove: defaultStreamAbove}
	for _, opt := range opts {
		opt(o)
	}
	if o.format == manifest.FormatV2 {
		// Members name the cut rule in rootfs.OutputSettings, so a format
		// 2 conversion has a staging key of its own; convertOne collects
		// them with a WithMembers of its own after these options.
		o.rootfs = append(o.rootfs, rootfs.WithMembers(func(rootfs.Member) {}))
	}
	// Last, so the level recorded in the manifest is the one used.
	o.rootfs = append(o.rootfs, rootfs.WithLevel(gzipLevel(o.compress)))
	return o
}

// Formats are the bundle formats Run writes (WithFormat).
var Formats = []int{manifest.FormatV1, manifest.FormatV2}

// FormatNames lists Formats for messages: "1, 2".
func FormatNames() string {
	var names []string
	for _, f := range Formats {
		names = append(names, strconv.Itoa(f))
	}
	return strings.Join(names, ", ")
}

// WithFormat sets the bundle format (default manifest.FormatV1, one whole
// tgz per image, docs/format.md): manifest.FormatV2 cuts each tgz into
// gzip members and carries each distinct member once (docs/format-v2.md).
// Run refuses a format outside Formats.
func WithFormat(n int) Option { return func(o *options) { o.format = n } }

// WithBinaries carries airlock's own binaries in the bundle, after the
// images (docs/format.md section 14). Default none.
func WithBinaries(bins []release.Binary) Option { return func(o *options) { o.binaries = bins } }

// WithHeldMembers has a format 2 export leave out the members the
// receipt's bucket holds (inventory.Receipt.HeldMembers): the bundle
// lists them in its have list and import reads them from the bucket
// (docs/format-v2.md section 10). Ignored in format 1.
func WithHeldMembers(held map[string]manifest.Have) Option { return func(o *options) { o.held = held } }

// WithBase records, in the bundle's signed manifest, the base a delta was
// cut against: the images it leaves out because the bucket holds them
// (docs/format.md section 5). Default nil: a full bundle.
func WithBase(b *manifest.Base) Option { return func(o *options) { o.base = b } }

// WithSequence gives the bundle a freshness record (docs/format.md section
// 5, Freshness): the next sequence of channel ("" for the signing key's
// id) from the state file beside the private key at keyPath, reserved
// before the bundle is written, and an expiry validFor after its creation.
func WithSequence(keyPath, channel string, validFor time.Duration) Option {
	return func(o *options) { o.seqKey, o.channel, o.validFor = keyPath, channel, validFor }
}

// WithFixedSequence makes WithSequence use sequence seq and previous
// digest previous instead of reserving the next one (to rebuild a bundle
// byte for byte); the state file is left alone.
func WithFixedSequence(seq uint64, previous string) Option {
	return func(o *options) { o.fixedSeq, o.previous = seq, previous }
}

// WithJobs converts up to n images at a time (default 2; each conversion
// already compresses on every core).
func WithJobs(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.jobs = n
		}
	}
}

// WithPartSize splits the bundle into parts of n bytes (default: one file).
func WithPartSize(n int64) Option { return func(o *options) { o.partSize = n } }

// WithParity writes k Reed-Solomon parity parts beside a split bundle.
func WithParity(k int) Option { return func(o *options) { o.parity = k } }

// WithCreated fixes the bundle's creation time (default: now).
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t } }

// WithTool records the program that wrote the bundle.
func WithTool(name string) Option { return func(o *options) { o.tool = name } }

// WithEvents receives progress events; it is called from several goroutines
// one at a time.
func WithEvents(fn func(Event)) Option { return func(o *options) { o.events = fn } }

// WithCacheDir sets the staging cache folder (default: stage.DefaultDir()).
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithCompression sets how hard each rootfs tgz is compressed, recorded
// per image in the manifest (default manifest.CompressionDefault): fast is
// gzip level 1, best level 9, default the compressor's default level (the
// bytes exports wrote before the choice existed). The level is part of the
// staging cache key, so another level converts again. Run refuses a name
// outside manifest.Compressions.
func WithCompression(c manifest.Compression) Option {
	return func(o *options) { o.compress = c }
}

// gzipLevel is the rootfs level of c, as docs/format.md section 5 says.
func gzipLevel(c manifest.Compression) int {
	switch c {
	case manifest.CompressionFast:
		return pgzip.BestSpeed
	case manifest.CompressionBest:
		return pgzip.BestCompression
	}
	return rootfs.DefaultLevel
}

// WithRootfsOptions passes options to the rootfs conversion. The
// compression level is WithCompression's, whatever these say.
func WithRootfsOptions(opts ...rootfs.Option) Option {
	return func(o *options) { o.rootfs = append(o.rootfs, opts...) }
}

// WithLint sets what Run does with the lint findings of images whose list
// line sets no lint= (default source.LintWarn): show them as Linted events
// and record them in the manifest (warn), refuse an image with a warning
// before any bundle is written (error, a *LintError), or neither (off).
// Run refuses a policy other than these three.
func WithLint(p source.LintPolicy) Option { return func(o *options) { o.lint = p } }
