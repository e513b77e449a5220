package export

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// BenchmarkFormat2Reuse: a format 2 export of N images (AIRLOCK_BENCH_IMAGES,
// default 5) on one base of about 24 MB of text, each with a small layer of
// its own, into a fresh staging cache, with each distinct run compressed
// once (reuse) and with every run compressed (compress-all). cpu-s/op is
// the process's CPU time per export.
func BenchmarkFormat2Reuse(b *testing.B) {
	n := 5
	if v, err := strconv.Atoi(os.Getenv("AIRLOCK_BENCH_IMAGES")); err == nil && v > 0 {
		n = v
	}
	targets := benchTargets(b, n, 24<<20)
	dir := b.TempDir()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		b.Fatal(err)
	}
	priv, err := keys.LoadPrivate(filepath.Join(dir, "k.key"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		noReuse bool
	}{{"compress-all", true}, {"reuse", false}} {
		b.Run(fmt.Sprintf("%s/images=%d", bc.name, n), func(b *testing.B) {
			var cpu time.Duration
			var reused, bytes int
			i := 0
			for b.Loop() {
				i++
				cache := filepath.Join(dir, fmt.Sprintf("cache-%s-%d", bc.name, i))
				start := cpuTime()
				res, err := Run(context.Background(), targets, filepath.Join(dir, fmt.Sprintf("%s-%d", bc.name, i)), priv,
					WithFormat(manifest.FormatV2), WithCacheDir(cache), func(o *options) { o.noReuse = bc.noReuse })
				cpu += cpuTime() - start
				if err != nil {
					b.Fatal(err)
				}
				reused, bytes = res.Reused, int(res.Bundle.Bytes)
				os.RemoveAll(cache)
				for _, f := range res.Bundle.Files {
					os.Remove(f)
				}
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(reused), "reused-members")
			b.ReportMetric(float64(bytes), "bundle-bytes")
		})
	}
}

func benchTargets(b *testing.B, n, baseBytes int) []source.Target {
	rng := rand.New(rand.NewPCG(11, 12))
	text := func(n int) string { return imagetest.Text(rng, n) }
	var base []imagetest.File
	for size, f := 0, 0; size < baseBytes; f++ {
		if f%100 == 0 {
			base = append(base, imagetest.Dir(fmt.Sprintf("usr/lib/pkg%03d", f/100), 0o755))
		}
		body := text(1 + rng.IntN(40<<10))
		base = append(base, imagetest.File{Name: fmt.Sprintf("usr/lib/pkg%03d/f%03d", f/100, f%100), Body: body})
		size += len(body)
	}
	reg := imagetest.Registry(b)
	var reqs []source.Request
	for i := range n {
		top := []imagetest.File{imagetest.Dir("app", 0o755), {Name: fmt.Sprintf("app/%d", i), Body: text(200 << 10)}}
		img := imagetest.Configure(b, imagetest.Image(b, base, top), func(c *v1.Config) { c.Env = []string{fmt.Sprintf("APP=%d", i)} })
		ref := fmt.Sprintf("%s/bench/app%d:1.%d", reg, i, i)
		imagetest.Push(b, ref, img)
		reqs = append(reqs, source.Request{Ref: ref, Line: i + 1})
	}
	targets, err := source.Resolve(context.Background(), reqs, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		b.Fatal(err)
	}
	return targets
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
