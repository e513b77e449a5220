package source

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client is airlock's one way to reach registries: one HTTP transport
// (the root CAs, the per-registry CAs of a certs.d folder, WithInsecure,
// the stall timeout), the credentials, the user agent and the retries.
// Resolving references, reading their images' layers and checking their
// signatures all go through it (see RemoteOptions), so a registry reached
// once is reached alike every time.
type Client struct {
	o  *options
	rt http.RoundTripper
}

// NewClient builds a Client from opts. The registry options (WithKeychain,
// WithInsecure, WithRootCAs, WithCertsDir, WithTransport,
// WithStallTimeout, WithRetryBackoff, WithUserAgent, WithJobs) set how it
// reaches registries; the others are kept for Client.Resolve.
func NewClient(opts ...Option) *Client {
	o := makeOptions(opts)
	return &Client{o: o, rt: o.httpTransport()}
}

// RemoteOptions are the options for go-containerregistry's remote package
// (and for what builds on it, such as cosign's signature client) that reach
// registries through c. Add remote.WithContext to bound the requests.
func (c *Client) RemoteOptions() []remote.Option {
	return []remote.Option{
		remote.WithAuthFromKeychain(c.o.keychain),
		remote.WithTransport(c.rt),
		remote.WithUserAgent(c.o.userAgent),
		remote.WithRetryBackoff(c.o.backoff),
		remote.WithRetryStatusCodes(retryCodes...),
		remote.WithJobs(c.o.jobs),
	}
}

// NameOptions parse references as c reaches them (name.Insecure with
// WithInsecure, so that plain HTTP is allowed).
func (c *Client) NameOptions() []name.Option { return c.o.nameOptions() }

// remoteOptions are RemoteOptions bound to ctx.
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	return append(c.RemoteOptions(), remote.WithContext(ctx))
}
