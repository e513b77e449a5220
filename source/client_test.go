package source

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// One Client reaches a registry behind a private CA for resolving and for
// anything else built on its RemoteOptions (signature checks), with its
// user agent; options given to Client.Resolve do not change how it reaches
// registries.
func TestClientIsOneWayToTheRegistry(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var mu sync.Mutex
	agents := map[string]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.UserAgent()] = true
		mu.Unlock()
		reg.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "https://") + "/team/tool:1.0"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, platformImage(t, amd64), remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	reqs := []Request{{Ref: ref, Line: 1}}
	mu.Lock()
	clear(agents)
	mu.Unlock()

	c := NewClient(append(testOptions, WithRootCAs(pool), WithCertsDir(""), WithUserAgent("airlock/test"))...)
	ts, err := c.Resolve(context.Background(), reqs, nil)
	if err != nil {
		t.Fatalf("resolving through the client: %v", err)
	}
	if _, err := remote.Get(ts[0].Ref.Context().Digest(ts[0].Digest.String()), c.RemoteOptions()...); err != nil {
		t.Fatalf("fetching through the client's RemoteOptions: %v", err)
	}
	mu.Lock()
	if len(agents) == 0 {
		t.Error("the registry saw no request")
	}
	for ua := range agents {
		if !strings.HasPrefix(ua, "airlock/test") {
			t.Errorf("a request came with user agent %q", ua)
		}
	}
	mu.Unlock()

	plain := NewClient(append(testOptions, WithCertsDir(""))...)
	_, err = plain.Resolve(context.Background(), reqs, nil, WithRootCAs(pool))
	var pe *PullError
	if !errors.As(err, &pe) || pe.Cause != PullUntrustedTLS {
		t.Fatalf("a CA given to Resolve, not to the client: err = %v, want an untrusted certificate", err)
	}
}
