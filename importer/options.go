package importer

import (
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/freshness"
)

// Option configures Run.
type Option func(*options)

type options struct {
	prefix    string
	overwrite bool
	force     bool
	dryRun    bool
	// allowMissingBase imports a delta whose base the bucket lacks.
	allowMissingBase bool
	events           func(Event)
	put              []bucket.PutOption
	now              time.Time            // reference time of the freshness check
	allow            []freshness.Override // what the freshness check lets in anyway
}

func makeOptions(opts []Option) options {
	o := options{events: func(Event) {}, now: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPrefix puts every key under prefix (e.g. "concourse/").
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithOverwrite replaces objects that exist with another checksum (default:
// refuse with a *ConflictError naming the keys).
func WithOverwrite(ok bool) Option { return func(o *options) { o.overwrite = ok } }

// WithForce uploads every image, even over an object that records the same
// checksum: it repairs objects whose content changed behind a correct
// looking checksum (found by a deep audit). Implies WithOverwrite.
func WithForce(ok bool) Option { return func(o *options) { o.force = ok } }

// WithDryRun plans the import, reporting Planned events, and uploads nothing.
func WithDryRun(ok bool) Option { return func(o *options) { o.dryRun = ok } }

// WithAllowMissingBase imports a delta bundle even where the bucket lacks
// objects of the base it was cut against, reporting each as a BaseMissing
// event (default: refuse with a *BaseError before uploading anything).
func WithAllowMissingBase(ok bool) Option { return func(o *options) { o.allowMissingBase = ok } }

// WithEvents receives progress events; it is called from several
// goroutines one at a time.
func WithEvents(fn func(Event)) Option {
	return func(o *options) {
		if fn != nil {
			o.events = fn
		}
	}
}

// WithPutOptions tunes each upload (part size, concurrency).
func WithPutOptions(opts ...bucket.PutOption) Option {
	return func(o *options) { o.put = append(o.put, opts...) }
}

// WithNow sets the reference time the bundle's expiry is checked against
// (default: the clock), for a disconnected machine whose clock is wrong.
func WithNow(t time.Time) Option { return func(o *options) { o.now = t } }

// WithAllow lets in bundles the freshness check refuses for the given
// reasons (freshness.AllowRollback, freshness.AllowExpired); the channel
// state's history records each one used.
func WithAllow(allow ...freshness.Override) Option {
	return func(o *options) { o.allow = append(o.allow, allow...) }
}

// WithOptions applies opts: a group of options as one.
func WithOptions(opts ...Option) Option {
	return func(o *options) {
		for _, opt := range opts {
			opt(o)
		}
	}
}
