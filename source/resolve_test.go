package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testRegistry is an in-process registry holding:
//
//	single:1.0       a linux/amd64 image
//	multi:2.0        an index of linux/amd64 and linux/arm64/v8 images
//	armonly:1        a linux/arm64 image
//	private/app:1    an image behind 401
//	flaky:1          an image whose manifest fails once with 503
type testRegistry struct {
	host     string
	single   v1.Image
	multi    v1.ImageIndex
	children map[string]v1.Hash // platform -> digest in multi
	agents   atomic.Value       // last User-Agent seen
	flaked   atomic.Bool        // flaky:1 has failed once
}

func newTestRegistry(t *testing.T, tlsServer bool) *testRegistry {
	t.Helper()
	tr := &testRegistry{children: map[string]v1.Hash{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.agents.Store(r.Header.Get("User-Agent"))
		switch {
		case strings.HasPrefix(r.URL.Path, "/v2/private/") && r.Header.Get("X-Test-Push") == "":
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		case strings.HasPrefix(r.URL.Path, "/v2/flaky/manifests/") && r.Method == http.MethodGet &&
			strings.HasPrefix(r.Header.Get("User-Agent"), "airlock") && !tr.flaked.Swap(true):
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		reg.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
	if !tlsServer {
		tr.populate(t)
	}
	return tr
}

func (tr *testRegistry) populate(t *testing.T) {
	t.Helper()
	tr.single = platformImage(t, amd64)
	tr.push(t, "single:1.0", tr.single)
	tr.push(t, "flaky:1", tr.single)
	tr.push(t, "armonly:1", platformImage(t, arm64))
	tr.push(t, "private/app:1", tr.single)
	idx := v1.ImageIndex(empty.Index)
	for _, p := range []v1.Platform{amd64, arm64} {
		img := platformImage(t, p)
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		tr.children[p.String()] = d
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	tr.multi = idx
	ref, err := name.ParseReference(tr.host + "/multi:2.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
}

// pushHeader lets the test push behind the 401 wall.
type pushHeader struct{ http.RoundTripper }

func (p pushHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Push", "1")
	return p.RoundTripper.RoundTrip(r)
}

func (tr *testRegistry) push(t *testing.T, repoTag string, img v1.Image) {
	t.Helper()
	ref, err := name.ParseReference(tr.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(pushHeader{http.DefaultTransport})); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

func platformImage(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testOptions keep tests hermetic and fast.
var testOptions = []Option{
	WithKeychain(authn.NewMultiKeychain()),
	WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}),
}

func resolve(t *testing.T, platforms []v1.Platform, lines ...string) ([]Target, error) {
	t.Helper()
	reqs, err := ParseList(strings.NewReader(strings.Join(lines, "\n")), "images.txt")
	if err != nil {
		t.Fatal(err)
	}
	return Resolve(context.Background(), reqs, platforms, testOptions...)
}

func TestResolveSingleImage(t *testing.T) {
	tr := newTestRegistry(t, false)
	ts, err := resolve(t, nil, tr.host+"/single:1.0")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tr.single.Digest()
	if len(ts) != 1 || ts[0].Digest != want || ts[0].IndexDigest != nil || ts[0].Key != "single/single-1.0.tgz" {
		t.Fatalf("got %+v", ts)
	}
	if got, err := ts[0].Image.Digest(); err != nil || got != want {
		t.Errorf("Image digest %v, %v; want %v", got, err, want)
	}
	if ua, _ := tr.agents.Load().(string); !strings.HasPrefix(ua, "airlock") {
		t.Errorf("User-Agent %q, want airlock...", ua)
	}
}

func TestResolveIndex(t *testing.T) {
	tr := newTestRegistry(t, false)
	idxDigest, _ := tr.multi.Digest()
	ts, err := resolve(t, []v1.Platform{amd64, {OS: "linux", Architecture: "arm64"}},
		tr.host+"/multi:2.0",
		tr.host+"/multi@"+idxDigest.String()+" as pinned:2.0")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 4 {
		t.Fatalf("got %d targets, want 4", len(ts))
	}
	for i, p := range []string{"linux/amd64", "linux/arm64/v8", "linux/amd64", "linux/arm64/v8"} {
		tg := ts[i]
		if tg.Digest != tr.children[p] || tg.IndexDigest == nil || *tg.IndexDigest != idxDigest {
			t.Errorf("target %d (%s): digest %v index %v; want %v in %v", i, p, tg.Digest, tg.IndexDigest, tr.children[p], idxDigest)
		}
		if got, err := tg.Image.Digest(); err != nil || got != tr.children[p] {
			t.Errorf("target %d: Image digest %v, %v", i, got, err)
		}
	}
	if ts[0].Key != "multi/multi-2.0.tgz" || ts[1].Key != "multi/linux-arm64/multi-2.0.tgz" || ts[3].Key != "pinned/linux-arm64/pinned-2.0.tgz" {
		t.Errorf("keys %s", keys(ts))
	}
}

func TestResolveErrors(t *testing.T) {
	tr := newTestRegistry(t, false)
	h := tr.host
	tests := []struct {
		name      string
		platforms []v1.Platform
		line      string
		want      []string
		status    int // of the *PullError; -1 for none
		cause     PullCause
	}{
		{"missing tag", nil, h + "/single:9.9",
			[]string{"images.txt:1: pulling " + h + "/single:9.9: not found (404)"}, 404, PullNotFound},
		{"missing repository", nil, h + "/nothing:1", []string{"not found (404)"}, 404, PullNotFound},
		{"unauthorized", nil, h + "/private/app:1",
			[]string{"images.txt:1: pulling " + h + "/private/app:1: unauthorized (401)"}, 401, PullUnauthorized},
		{"platform missing from index", []v1.Platform{{OS: "linux", Architecture: "s390x"}}, h + "/multi:2.0",
			[]string{"images.txt:1: " + h + "/multi:2.0 has none of the requested platforms (linux/s390x); it has linux/amd64, linux/arm64/v8"}, -1, 0},
		{"single image of another platform", nil, h + "/armonly:1",
			[]string{"images.txt:1: " + h + "/armonly:1 has none of the requested platforms (linux/amd64); it has only linux/arm64/v8 (a single image)"}, -1, 0},
		{"unreachable", nil, "127.0.0.1:1/x:1", []string{"pulling 127.0.0.1:1/x:1: cannot reach 127.0.0.1:1"}, 0, PullUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, tt.platforms, tt.line)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			var pe *PullError
			if errors.As(err, &pe) != (tt.status >= 0) || (pe != nil && (pe.StatusCode != tt.status || pe.Cause != tt.cause || pe.Registry != h && tt.status > 0)) {
				t.Errorf("PullError %+v, want status %d, cause %d", pe, tt.status, tt.cause)
			}
		})
	}
}

func TestResolveReportsEveryBadLine(t *testing.T) {
	tr := newTestRegistry(t, false)
	_, err := resolve(t, nil, tr.host+"/single:1.0", tr.host+"/gone:1", tr.host+"/private/app:1", tr.host+"/armonly:1")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range []string{"images.txt:2:", "images.txt:3:", "images.txt:4:"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not name %s", msg, w)
		}
	}
	if strings.Contains(msg, "images.txt:1:") {
		t.Errorf("error %q blames the good line", msg)
	}
}

func TestResolveRetriesTransientFailure(t *testing.T) {
	tr := newTestRegistry(t, false)
	if _, err := resolve(t, nil, tr.host+"/flaky:1"); err != nil {
		t.Fatalf("503 once should be retried: %v", err)
	}
	if !tr.flaked.Load() {
		t.Error("the registry never failed")
	}
}

func TestResolvePlansBeforeNetwork(t *testing.T) {
	// Nothing listens on 127.0.0.1:1; a planning error must come first.
	_, err := resolve(t, nil, "127.0.0.1:1/a:1", "127.0.0.1:1/b:1 as a:1")
	if err == nil || !strings.Contains(err.Error(), "both export to key a/a-1.tgz") || strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("got %v, want only the duplicate key error", err)
	}
}

func TestResolveInsecureTLS(t *testing.T) {
	tr := newTestRegistry(t, true)
	ref := tr.host + "/single:1.0"
	opts := append([]Option{WithInsecure(true)}, testOptions...)
	reqs := []Request{{Ref: ref, Line: 1}}
	// Push through the same insecure transport.
	img := platformImage(t, amd64)
	r, _ := name.ParseReference(ref, name.Insecure)
	if err := remote.Write(r, img, remote.WithTransport(makeOptions(opts).httpTransport())); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(context.Background(), reqs, nil, testOptions...)
	var pe *PullError
	if !errors.As(err, &pe) || pe.Cause != PullUntrustedTLS || !strings.Contains(err.Error(), "untrusted TLS certificate") {
		t.Errorf("without WithInsecure: got %v, want an untrusted certificate error", err)
	}
	ts, err := Resolve(context.Background(), reqs, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := img.Digest(); ts[0].Digest != want {
		t.Errorf("digest %v, want %v", ts[0].Digest, want)
	}
}

func TestResolveCancelled(t *testing.T) {
	tr := newTestRegistry(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reqs := []Request{{Ref: tr.host + "/single:1.0", Line: 1}}
	_, err := Resolve(ctx, reqs, nil, testOptions...)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestResolveImageWithoutPlatform(t *testing.T) {
	tr := newTestRegistry(t, false)
	tr.push(t, "bare:1.0", platformImage(t, v1.Platform{}))
	ts, err := resolve(t, nil, tr.host+"/bare:1.0")
	if err != nil || len(ts) != 1 || ts[0].Platform.String() != "linux/amd64" {
		t.Fatalf("one platform requested: %+v, %v", ts, err)
	}
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	_, err = resolve(t, []v1.Platform{DefaultPlatform, arm}, tr.host+"/bare:1.0")
	if err == nil || !strings.Contains(err.Error(), "names no platform") {
		t.Fatalf("two platforms requested: err = %v", err)
	}
}

func TestPullErrorPlainHTTP(t *testing.T) {
	ref, _ := name.ParseReference("registry.example/app:1")
	tg := Target{Request: Request{Ref: "registry.example/app:1"}, Ref: ref}
	err := &url.Error{Op: "Get", URL: "https://registry.example/v2/", Err: http.ErrSchemeMismatch}
	pe := pullError(tg, fmt.Errorf("pinging: %w", err))
	if pe.Cause != PullPlainHTTP || pe.Registry != "registry.example" || !strings.Contains(pe.Error(), "registry.example speaks plain HTTP") {
		t.Errorf("got %+v (%v)", pe, pe)
	}
}
