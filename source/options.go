package source

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/airlockhq/airlock/internal/stall"
)

// Option configures a Client and Resolve.
type Option func(*options)

type options struct {
	keychain    authn.Keychain
	insecure    bool
	jobs        int
	userAgent   string
	keyTemplate string
	floating    bool
	rootCAs     *x509.CertPool
	certsDir    string
	// platform selection (platforms.go)
	strictPlatforms bool
	platformWarn    func(*MissingPlatformsError)
	transport       http.RoundTripper
	backoff         remote.Backoff
	stall           time.Duration
}

// DefaultBackoff retries transient registry failures three times, after
// 1 s and 3 s.
var DefaultBackoff = remote.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 3}

// retryCodes are the HTTP statuses worth retrying.
var retryCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

func makeOptions(opts []Option) *options {
	o := &options{
		keychain:  authn.DefaultKeychain,
		jobs:      4,
		userAgent: "airlock",
		transport: remote.DefaultTransport,
		backoff:   DefaultBackoff,
		stall:     stall.DefaultInterval,
		certsDir:  DefaultCertsDir,
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// with returns a copy of o with opts applied to how references are
// planned; how registries are reached stays o's.
func (o *options) with(opts []Option) *options {
	n := *o
	for _, opt := range opts {
		opt(&n)
	}
	n.keychain, n.insecure, n.jobs, n.userAgent = o.keychain, o.insecure, o.jobs, o.userAgent
	n.rootCAs, n.certsDir, n.transport, n.backoff, n.stall = o.rootCAs, o.certsDir, o.transport, o.backoff, o.stall
	return &n
}

// WithKeychain sets where credentials come from; the default is
// authn.DefaultKeychain (the docker config and its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithInsecure allows plain-HTTP registries and skips TLS certificate
// verification, for self-signed registries. Off by default; registries on
// localhost and private addresses may use plain HTTP regardless.
func WithInsecure(insecure bool) Option { return func(o *options) { o.insecure = insecure } }

// WithJobs sets how many references are resolved at once; default 4.
func WithJobs(n int) Option {
	return func(o *options) { o.jobs = max(n, 1) }
}

// WithUserAgent sets the User-Agent sent to registries; default "airlock".
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithKeyTemplate overrides the key template (see ParseKeyTemplate); by
// default DefaultKeyTemplate, or MultiPlatformKeyTemplate when more than
// one platform is requested.
func WithKeyTemplate(text string) Option { return func(o *options) { o.keyTemplate = text } }

// WithFloatingVersions allows versions whose first component is not a
// number (see concourse.Version.Floating). Off by default: such a version
// sorts above every numeric one, so Plan refuses it with a
// *FloatingVersionError.
func WithFloatingVersions(ok bool) Option { return func(o *options) { o.floating = ok } }

// WithTransport sets the HTTP transport; default remote.DefaultTransport.
// It is wrapped with retries and the user agent.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithRetryBackoff sets how transient failures are retried; default
// DefaultBackoff.
func WithRetryBackoff(b remote.Backoff) Option { return func(o *options) { o.backoff = b } }

// WithStallTimeout cuts off a registry exchange (a manifest or a layer
// blob) after d without a byte moving, and retries it within the retry
// budget; default 60 s, 0 waits for ever.
func WithStallTimeout(d time.Duration) Option { return func(o *options) { o.stall = d } }

// nameOptions are the options for parsing references.
func (o *options) nameOptions() []name.Option {
	if o.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// httpTransport skips certificate verification when insecure, and
// otherwise trusts the root CAs and the per-registry ones; it cuts off
// stalled exchanges.
func (o *options) httpTransport() http.RoundTripper {
	return stall.Transport(o.tlsTransport(), o.stall)
}

func (o *options) tlsTransport() http.RoundTripper {
	t, ok := o.transport.(*http.Transport)
	if !ok {
		return o.transport
	}
	if !o.insecure {
		if o.rootCAs != nil {
			t = withRoots(t, o.rootCAs)
		}
		if o.certsDir == "" {
			return t
		}
		return &caTransport{base: t, roots: o.rootCAs, dir: o.certsDir, hosts: map[string]http.RoundTripper{}}
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // asked for with --insecure
	return t
}
