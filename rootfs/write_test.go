package rootfs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

func TestMetadataOf(t *testing.T) {
	tests := []struct {
		name string
		cfg  *v1.ConfigFile
		want string
	}{
		{"nil config", nil, `{"cmd":null,"entrypoint":null,"env":null,"user":""}`},
		{"empty config", &v1.ConfigFile{}, `{"cmd":null,"entrypoint":null,"env":null,"user":""}`},
		{"full config", &v1.ConfigFile{Config: imagetest.EdgeCaseConfig},
			`{"cmd":["echo hello"],"entrypoint":["/bin/sh","-c"],"env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello world"],"user":"1000:1000"}`},
		{"user by name", &v1.ConfigFile{Config: v1.Config{User: "nobody:nogroup", Env: []string{}}},
			`{"cmd":null,"entrypoint":null,"env":[],"user":"nobody:nogroup"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(rootfs.MetadataOf(tt.cfg))
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	sum := func(img v1.Image, opts ...rootfs.Option) [32]byte {
		tgz, _ := write(t, img, opts...)
		return sha256.Sum256(tgz)
	}
	if a, b := sum(imagetest.EdgeCase(t)), sum(imagetest.EdgeCase(t)); a != b {
		t.Errorf("two runs on the edge case image differ: %x %x", a, b)
	}
	// Several gzip blocks, so concurrency really varies.
	img, _ := generated(t, 2, 40, 8<<10)
	small := rootfs.WithBlockSize(64 << 10)
	if a, b := sum(img, small, rootfs.WithConcurrency(1)), sum(img, small, rootfs.WithConcurrency(4)); a != b {
		t.Errorf("concurrency changed the output: %x %x", a, b)
	}
}

func TestWriteGzipHeader(t *testing.T) {
	tgz, _ := write(t, imagetest.EdgeCase(t))
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || tgz[3] != 0 || !bytes.Equal(tgz[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header: name %q comment %q mtime %v flags %#x mtime bytes % x; want all empty",
			zr.Name, zr.Comment, zr.ModTime, tgz[3], tgz[4:8])
	}
}

func TestWriteProgress(t *testing.T) {
	img, _ := generated(t, 1, 50, 64<<10)
	var calls []int64
	tgz, _ := write(t, img, rootfs.WithProgress(func(n int64) { calls = append(calls, n) }))

	zr, _ := gzip.NewReader(bytes.NewReader(tgz))
	size, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, n := range calls {
		if n <= 0 {
			t.Errorf("progress reported an empty increment: %v", calls)
		}
		sum += n
	}
	if len(calls) < 3 || sum != size {
		t.Fatalf("progress calls %v add up to %d, want several adding up to the tar size %d", calls, sum, size)
	}
}

func TestWriteErrors(t *testing.T) {
	good := imagetest.Layer(t, imagetest.File{Name: "a", Body: "A"})
	truncated := brokenLayer{Layer: imagetest.Layer(t, imagetest.File{Name: "big", Body: strings.Repeat("x", 4096)}), cut: 1000}
	digest, _ := truncated.Digest()
	goodDigest, _ := good.Digest()
	tests := []struct {
		name    string
		img     v1.Image
		opts    []rootfs.Option
		wantErr []string
	}{
		{"truncated layer", appendLayers(t, good, truncated), nil, []string{"layer 1 (" + digest.String() + ")", "unexpected EOF"}},
		{"unreadable layer", appendLayers(t, good, failingLayer{good}), nil, []string{"layer 1 (" + goodDigest.String() + ")", "blob unavailable"}},
		{"path out of the root", imagetest.Image(t, []imagetest.File{{Name: "../evil", Body: "x"}}), nil, []string{`entry "../evil"`, "leaves the image root"}},
		{"bad level", imagetest.EdgeCase(t), []rootfs.Option{rootfs.WithLevel(42)}, []string{"compression level 42"}},
		{"bad block size", imagetest.EdgeCase(t), []rootfs.Option{rootfs.WithBlockSize(10)}, []string{"block size 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rootfs.Write(context.Background(), io.Discard, tt.img, tt.opts...)
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to contain %q", err, want)
				}
			}
		})
	}
}

// brokenLayer serves only the first cut bytes of its uncompressed tar.
type brokenLayer struct {
	v1.Layer
	cut int64
}

func (b brokenLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := b.Layer.Uncompressed()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, b.cut), rc}, nil
}

// failingLayer cannot be read.
type failingLayer struct{ v1.Layer }

func (failingLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("blob unavailable")
}

func appendLayers(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestWriteCancel(t *testing.T) {
	img := imagetest.Random(t, 4<<20, 4)
	before := runtime.NumGoroutine()

	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := rootfs.Write(ctx, io.Discard, img); !errors.Is(err, context.Canceled) {
			t.Errorf("Write error %v, want context.Canceled", err)
		}
	})
	t.Run("while writing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := &cancelWriter{cancel: cancel}
		start := time.Now()
		_, err := rootfs.Write(ctx, w, img, rootfs.WithBlockSize(64<<10))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Write error %v, want context.Canceled", err)
		}
		if w.n >= 4<<20 || time.Since(start) > 5*time.Second {
			t.Errorf("Write went on after cancel: %d bytes out, %v", w.n, time.Since(start))
		}
	})
	// Every goroutine Write started (Extract, layer re-tar, pgzip) must end.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running after cancel, %d before", n, before)
	}
}

// cancelWriter cancels its context on the first write.
type cancelWriter struct {
	cancel func()
	n      int
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.cancel()
	w.n += len(p)
	return len(p), nil
}

func BenchmarkWrite(b *testing.B) {
	img, size := generated(b, 3, 200, 64<<10) // about 38 MiB of files
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rootfs.Write(context.Background(), io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSmallFiles weighs the per-entry work (the walker, the
// flattener's bookkeeping and the lint) against little data.
func BenchmarkWriteSmallFiles(b *testing.B) {
	img, size := generated(b, 3, 5000, 200)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rootfs.Write(context.Background(), io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}
