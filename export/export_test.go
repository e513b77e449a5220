package export_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
)

type setup struct {
	dir, cache string
	priv       ed25519.PrivateKey
	trusted    []keys.Public
	targets    []source.Target
}

func newSetup(t *testing.T, images int) *setup {
	t.Helper()
	reg := imagetest.Registry(t)
	var reqs []source.Request
	for i := range images {
		img := imagetest.Configure(t, imagetest.Image(t, []imagetest.File{
			{Name: "etc/app", Body: strings.Repeat(fmt.Sprint(i), 100000)},
		}), func(c *v1.Config) { c.Env, c.User = []string{"PATH=/usr/bin"}, "app" })
		ref := fmt.Sprintf("%s/team/app%d:1.%d", reg, i, i)
		imagetest.Push(t, ref, img)
		reqs = append(reqs, source.Request{Ref: ref, Line: i + 1})
	}
	s := &setup{dir: t.TempDir(), cache: t.TempDir()}
	targets, err := source.Resolve(context.Background(), reqs, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		t.Fatal(err)
	}
	s.targets = targets
	base := filepath.Join(s.dir, "k")
	if _, err := keys.Generate(base); err != nil {
		t.Fatal(err)
	}
	if s.priv, err = keys.LoadPrivate(base + ".key"); err != nil {
		t.Fatal(err)
	}
	pub, err := keys.LoadPublic(base + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	s.trusted = []keys.Public{pub}
	return s
}

func (s *setup) run(ctx context.Context, out string, opts ...export.Option) (*export.Result, error) {
	opts = append([]export.Option{export.WithCacheDir(s.cache), export.WithJobs(1)}, opts...)
	return export.Run(ctx, s.targets, filepath.Join(s.dir, out), s.priv, opts...)
}

func TestInterruptedExportResumes(t *testing.T) {
	s := newSetup(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	converted := 0
	_, err := s.run(ctx, "b", export.WithEvents(func(e export.Event) {
		if e.Kind == export.Converted {
			converted++
			cancel() // Ctrl-C after the first image is done
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted export: err = %v, want context.Canceled", err)
	}
	if converted != 1 {
		t.Fatalf("converted %d images before the interruption, want 1", converted)
	}
	assertNoBundle(t, s.dir)

	res, err := s.run(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached != 1 || res.Converted != 2 {
		t.Fatalf("resumed export: %d cached, %d converted; want 1 and 2", res.Cached, res.Converted)
	}
	r := openVerified(t, res, s.trusted)
	for _, e := range r.Manifest.Entries {
		if e.Image == nil || e.Image.Digest == "" || e.Image.Platform != "linux/amd64" || !strings.HasPrefix(e.Path, export.PayloadPrefix+e.Image.Key) {
			t.Errorf("entry %s lacks image facts: %+v", e.Path, e.Image)
		}
	}
}

func TestRepeatedExportIsCachedAndIdentical(t *testing.T) {
	s := newSetup(t, 2)
	when := time.Unix(1700000000, 0)
	a, err := s.run(context.Background(), "a", export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.run(context.Background(), "b", export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	if b.Cached != 2 || b.Converted != 0 {
		t.Fatalf("second export: %d cached, %d converted", b.Cached, b.Converted)
	}
	x, _ := os.ReadFile(a.Bundle.Files[0])
	y, _ := os.ReadFile(b.Bundle.Files[0])
	if string(x) != string(y) {
		t.Fatal("same images and time gave different bundles")
	}
}

func TestDamagedStagingFileIsEvictedAndConvertedAgain(t *testing.T) {
	s := newSetup(t, 2)
	if _, err := s.run(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	tgz, _ := filepath.Glob(filepath.Join(s.cache, "*.tgz"))
	if len(tgz) != 2 {
		t.Fatalf("staging cache holds %v", tgz)
	}
	b, _ := os.ReadFile(tgz[0])
	b[len(b)/2] ^= 1
	os.WriteFile(tgz[0], b, 0o644)
	var evicted []export.Event
	res, err := s.run(context.Background(), "b", export.WithEvents(func(e export.Event) {
		if e.Kind == export.Evicted {
			evicted = append(evicted, e)
		}
	}))
	if err != nil {
		t.Fatalf("export after a damaged cache entry: %v", err)
	}
	if len(evicted) != 1 || !strings.Contains(evicted[0].Message, tgz[0]) || !strings.Contains(evicted[0].Message, "staging cache") {
		t.Fatalf("evicted events %+v, want one naming %s", evicted, tgz[0])
	}
	if res.Converted != 1 || res.Cached != 1 {
		t.Fatalf("%d converted, %d cached; want 1 and 1", res.Converted, res.Cached)
	}
	openVerified(t, res, s.trusted)
	// The damaged file is gone; the next export uses the new entry.
	if _, err := os.Stat(tgz[0]); err == nil {
		if b2, _ := os.ReadFile(tgz[0]); string(b2) == string(b) {
			t.Fatal("the damaged file is still in the cache")
		}
	}
	again, err := s.run(context.Background(), "c")
	if err != nil || again.Cached != 2 {
		t.Fatalf("third export: %v, %+v", err, again)
	}
}

// A staging record whose metadata changed on disk (a same-size flip that
// leaves valid JSON) must not put that metadata into the signed manifest:
// the manifest's metadata is the metadata.json of the tgz it describes.
func TestDamagedStagingRecordIsNotSigned(t *testing.T) {
	s := newSetup(t, 1)
	a, err := s.run(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	want := a.Bundle.Manifest.Entries[0].Image.Metadata
	if len(want.Env) != 1 || want.Env[0] != "PATH=/usr/bin" || want.User != "app" {
		t.Fatalf("first export records metadata %+v", want)
	}
	recs, _ := filepath.Glob(filepath.Join(s.cache, "*.json"))
	if len(recs) != 1 {
		t.Fatalf("staging cache holds records %v", recs)
	}
	b, _ := os.ReadFile(recs[0])
	flipped := strings.Replace(string(b), "PATH=/usr/bin", "PATH=/usr/bim", 1)
	if flipped == string(b) {
		t.Fatalf("record %s does not hold the metadata: %s", recs[0], b)
	}
	os.WriteFile(recs[0], []byte(flipped), 0o600)
	res, err := s.run(context.Background(), "b")
	if err != nil {
		t.Fatalf("export after a damaged record: %v", err)
	}
	r := openVerified(t, res, s.trusted)
	got := r.Manifest.Entries[0].Image.Metadata
	if !slices.Equal(got.Env, want.Env) || got.User != want.User {
		t.Fatalf("signed manifest records metadata %+v, want %+v as in the tgz", got, want)
	}
}

func assertNoBundle(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tar") || strings.Contains(e.Name(), "partial") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestCachedTgzIsNotReusedWithOtherSettings(t *testing.T) {
	s := newSetup(t, 1)
	when := export.WithCreated(time.Unix(1700000000, 0))
	a, err := s.run(context.Background(), "a", when)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.run(context.Background(), "b", when, export.WithCompression(manifest.CompressionFast))
	if err != nil {
		t.Fatal(err)
	}
	if b.Cached != 0 || b.Converted != 1 {
		t.Fatalf("export at another compression level: %d cached, %d converted; want a new conversion", b.Cached, b.Converted)
	}
	if a.Bundle.Manifest.Entries[0].SHA256 == b.Bundle.Manifest.Entries[0].SHA256 {
		t.Fatal("another compression level gave the same tgz")
	}
	if ca, cb := a.Bundle.Manifest.Entries[0].Image.Compression, b.Bundle.Manifest.Entries[0].Image.Compression; ca != manifest.CompressionDefault || cb != manifest.CompressionFast {
		t.Fatalf("manifests record compression %q and %q, want default and fast", ca, cb)
	}
	c, err := s.run(context.Background(), "c", when, export.WithRootfsOptions(rootfs.WithBlockSize(1<<18)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Cached != 0 || c.Converted != 1 {
		t.Fatalf("export with another block size: %d cached, %d converted; want a new conversion", c.Cached, c.Converted)
	}
	d, err := s.run(context.Background(), "d", when, export.WithCompression(manifest.CompressionFast), export.WithRootfsOptions(rootfs.WithConcurrency(1)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Cached != 1 || d.Bundle.Manifest.Entries[0].SHA256 != b.Bundle.Manifest.Entries[0].SHA256 {
		t.Fatalf("same settings (concurrency does not change bytes): %d cached; want the cached tgz", d.Cached)
	}
}

func TestCompressionIsRecordedAndReproducible(t *testing.T) {
	s := newSetup(t, 2)
	when := export.WithCreated(time.Unix(1700000000, 0))
	sizes := map[manifest.Compression]int64{}
	for _, c := range manifest.Compressions {
		// Two fresh conversions (separate caches) at one level give the
		// same bytes, tgz and bundle alike.
		var bundles [2][]byte
		for i := range bundles {
			s.cache = t.TempDir()
			res, err := s.run(context.Background(), fmt.Sprintf("%s-%d", c, i), when, export.WithCompression(c))
			if err != nil {
				t.Fatal(err)
			}
			if res.Converted != 2 {
				t.Fatalf("%s: %d converted, want 2 fresh conversions", c, res.Converted)
			}
			for _, e := range res.Bundle.Manifest.Entries {
				if e.Image == nil || e.Image.Compression != c {
					t.Fatalf("%s: entry %s records %+v", c, e.Path, e.Image)
				}
				sizes[c] += e.Size
			}
			if bundles[i], err = os.ReadFile(res.Bundle.Files[0]); err != nil {
				t.Fatal(err)
			}
			openVerified(t, res, s.trusted)
		}
		if string(bundles[0]) != string(bundles[1]) {
			t.Errorf("compression %s: the same images, key and time gave different bundles", c)
		}
	}
	if !(sizes[manifest.CompressionFast] > sizes[manifest.CompressionDefault] && sizes[manifest.CompressionDefault] >= sizes[manifest.CompressionBest]) {
		t.Errorf("tgz sizes fast/default/best = %v; want fast largest, best smallest", sizes)
	}
}

func TestUnknownCompressionIsRefused(t *testing.T) {
	s := newSetup(t, 1)
	_, err := s.run(context.Background(), "x", export.WithCompression("zstd"))
	if err == nil || !strings.Contains(err.Error(), `"zstd"`) || !strings.Contains(err.Error(), "fast, default, best") {
		t.Fatalf("Run with compression zstd: %v", err)
	}
	assertNoBundle(t, s.dir)
}

// openVerified opens an export's bundle and checks every entry; the
// reader closes when the test ends.
func openVerified(t *testing.T, res *export.Result, trusted []keys.Public) *bundle.Reader {
	t.Helper()
	r, err := bundle.Open(res.Bundle.Files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := r.VerifyAll(context.Background(), bundle.Watcher{}); err != nil {
		t.Fatal(err)
	}
	return r
}
