package source

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// DefaultCertsDir is where docker keeps per-registry CAs:
// DIR/HOST[:PORT]/ca.crt (any *.crt in the folder is read).
const DefaultCertsDir = "/etc/docker/certs.d"

// WithRootCAs trusts pool for every registry instead of the system's CAs
// (build it from x509.SystemCertPool plus the extra CAs). Default: the
// system's CAs, which SSL_CERT_FILE and SSL_CERT_DIR change.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithCertsDir reads per-registry CAs in docker's layout under dir
// (DIR/HOST[:PORT]/*.crt), trusted for that registry only, on top of the
// root CAs. Default DefaultCertsDir; "" turns it off.
func WithCertsDir(dir string) Option { return func(o *options) { o.certsDir = dir } }

// caTransport picks, per registry host, a transport that also trusts the
// host's CAs from a certs.d folder.
type caTransport struct {
	base  *http.Transport
	roots *x509.CertPool // nil: the system's
	dir   string

	mu    sync.Mutex
	hosts map[string]http.RoundTripper
}

func (c *caTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt, err := c.forHost(req.URL.Host)
	if err != nil {
		return nil, err
	}
	return rt.RoundTrip(req)
}

func (c *caTransport) forHost(host string) (http.RoundTripper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rt, ok := c.hosts[host]; ok {
		return rt, nil
	}
	pems, err := hostCAs(c.dir, host)
	if err != nil {
		return nil, err
	}
	rt := c.base
	if len(pems) > 0 {
		pool := c.roots
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		for _, p := range pems {
			if !pool.AppendCertsFromPEM(p.pem) {
				return nil, fmt.Errorf("registry CA %s holds no PEM certificate", p.file)
			}
		}
		rt = withRoots(c.base, pool)
	}
	c.hosts[host] = rt
	return rt, nil
}

type pemFile struct {
	file string
	pem  []byte
}

// hostCAs reads DIR/HOST/*.crt; a missing folder is no CA.
func hostCAs(dir, host string) ([]pemFile, error) {
	if dir == "" || host == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, filepath.Base(host), "*.crt"))
	if err != nil {
		return nil, err
	}
	var out []pemFile
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading registry CA: %w", err)
		}
		out = append(out, pemFile{f, b})
	}
	return out, nil
}

func withRoots(t *http.Transport, pool *x509.CertPool) *http.Transport {
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.RootCAs = pool
	return t
}
