package export_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/stall"
	"github.com/airlockhq/airlock/source"
)

// stallingRegistry serves a registry whose downloads of the blob layer
// send a few bytes and then nothing; stalls says how many downloads stall
// (-1: all).
func stallingRegistry(t *testing.T, layer v1.Layer, stalls int) (host string, blobGets func() int) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	digest, err := layer.Digest()
	if err != nil {
		t.Fatal(err)
	}
	size, err := layer.Size()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var mu sync.Mutex
	gets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+digest.String()) {
			reg.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		gets++
		stallThis := stalls < 0 || gets <= stalls
		mu.Unlock()
		if !stallThis {
			reg.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.Write([]byte("\x1f\x8b"))
		w.(http.Flusher).Flush()
		<-done
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return strings.TrimPrefix(srv.URL, "http://"), func() int { mu.Lock(); defer mu.Unlock(); return gets }
}

func stallingImage(t *testing.T) (v1.Image, v1.Layer) {
	t.Helper()
	img := imagetest.Image(t, []imagetest.File{{Name: "etc/app", Body: strings.Repeat("x", 100000)}})
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return img, layers[0]
}

func resolveStalling(t *testing.T, host string, img v1.Image) []source.Target {
	t.Helper()
	ref := host + "/team/app:1.0"
	// Pushing reads no blob back, so the stalls hit only the export.
	imagetest.Push(t, ref, img)
	targets, err := source.Resolve(context.Background(), []source.Request{{Ref: ref, Line: 1}}, []v1.Platform{source.DefaultPlatform},
		source.WithStallTimeout(200*time.Millisecond), source.WithRetryBackoff(remote.Backoff{Duration: 10 * time.Millisecond, Factor: 1, Steps: 3}))
	if err != nil {
		t.Fatal(err)
	}
	return targets
}

// A layer download that stalls halfway is cut off and started again.
func TestStalledLayerDownloadIsRetried(t *testing.T) {
	img, layer := stallingImage(t)
	host, gets := stallingRegistry(t, layer, 1)
	s := newSetup(t, 0)
	s.targets = resolveStalling(t, host, img)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.run(ctx, "b"); err != nil {
		t.Fatalf("export after one stalled download: %v", err)
	}
	if gets() < 2 {
		t.Fatalf("%d blob downloads, want the stalled one and its retry", gets())
	}
}

// A registry that always stalls fails the export, naming the server and
// the blob, instead of waiting for ever; nothing looking like a bundle is left.
func TestRegistryThatAlwaysStallsFails(t *testing.T) {
	img, layer := stallingImage(t)
	host, _ := stallingRegistry(t, layer, -1)
	s := newSetup(t, 0)
	s.targets = resolveStalling(t, host, img)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.run(ctx, "b")
	var stalled *stall.Error
	if !errors.As(err, &stalled) {
		t.Fatalf("err = %v, want a stall error", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the export waited until the test's deadline")
	}
	if !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), "/blobs/sha256:") {
		t.Fatalf("error %q should name the registry %s and the blob", err, host)
	}
	if m, _ := filepath.Glob(filepath.Join(s.dir, "b.tar*")); len(m) > 0 {
		t.Fatalf("a failed export left %v", m)
	}
}
