package export

import (
	"time"

	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
)

// Option configures Run.
type Option func(*options)

type options struct {
	jobs      int
	partSize  int64
	parity    int
	created   time.Time
	tool      string
	events    func(Event)
	rootfs    []rootfs.Option
	cacheDir  string
	verifier  *provenance.Verifier
	policyFor func(source.Target) provenance.Policy
	carry     bool
}

func makeOptions(opts []Option) *options {
	o := &options{jobs: 2, created: time.Now(), events: func(Event) {}}
	for _, opt := range opts {
		opt(o)
	}
	return o
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

// WithRootfsOptions passes options to the rootfs conversion.
func WithRootfsOptions(opts ...rootfs.Option) Option {
	return func(o *options) { o.rootfs = append(o.rootfs, opts...) }
}
