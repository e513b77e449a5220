package rootfs_test

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/pgzip"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// BenchmarkMembers measures what members cost against today's single
// pgzip stream, on the uncompressed tar named by $AIRLOCK_MEMBERS_TAR as
// a one-layer image (bench/members.sh builds one and runs this): for each
// level, the size of the tgz and the write speed of both, one after the
// other (-count repeats each back to back; the script runs rounds to
// alternate them). $AIRLOCK_MEMBERS_SIZES=MIN,SCALE,MAX,PIECE tries other cut
// thresholds (bytes).
func BenchmarkMembers(b *testing.B) {
	path := os.Getenv("AIRLOCK_MEMBERS_TAR")
	if path == "" {
		b.Skip("AIRLOCK_MEMBERS_TAR is not set (see bench/members.sh)")
	}
	img, size := tarImage(b, path)
	var sizes []rootfs.Option
	if s := os.Getenv("AIRLOCK_MEMBERS_SIZES"); s != "" {
		var n [4]int64
		f := strings.Split(s, ",")
		for i := range n {
			if len(f) != 4 {
				b.Fatalf("AIRLOCK_MEMBERS_SIZES=%q: want MIN,SCALE,MAX,PIECE", s)
			}
			var err error
			if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
				b.Fatal(err)
			}
		}
		sizes = append(sizes, rootfs.WithMemberSizes(n[0], n[1], n[2], n[3]))
	}
	levels := []struct {
		name  string
		level int
	}{{"fast", pgzip.BestSpeed}, {"default", pgzip.DefaultCompression}, {"best", pgzip.BestCompression}}
	for _, l := range levels {
		for _, mode := range []string{"stream", "members"} {
			b.Run(fmt.Sprintf("level=%s/%s", l.name, mode), func(b *testing.B) {
				opts := []rootfs.Option{rootfs.WithLevel(l.level)}
				var members int
				if mode == "members" {
					opts = append(opts, rootfs.WithMembers(func(rootfs.Member) { members++ }))
					opts = append(opts, sizes...)
				}
				b.SetBytes(size)
				var cw countWriter
				cpu := cpuTime()
				for b.Loop() {
					cw, members = 0, 0
					if _, err := rootfs.Write(context.Background(), &cw, img, opts...); err != nil {
						b.Fatal(err)
					}
				}
				// CPU time is steadier than wall time on a shared machine.
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(cw), "tgz-bytes")
				b.ReportMetric(float64(members), "members")
			})
		}
	}
}

// cpuTime is the user and system time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// fileLayer is an uncompressed tar file as a layer that only Uncompressed
// reads: its digests are stand-ins, so setting up costs no compression.
type fileLayer string

func (f fileLayer) hash() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(f)))}
}
func (f fileLayer) Digest() (v1.Hash, error) { return f.hash(), nil }
func (f fileLayer) DiffID() (v1.Hash, error) { return f.hash(), nil }
func (f fileLayer) Compressed() (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s: not compressed", string(f))
}
func (f fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(string(f)) }
func (f fileLayer) Size() (int64, error)                 { return 0, nil }
func (f fileLayer) MediaType() (types.MediaType, error)  { return types.DockerLayer, nil }

// BenchmarkRawHash: what the RawSHA256 of every run costs for an image no
// other image of the export shares: a one-layer image written with an
// empty member source, without a layer memo (every run hashed) and with a
// memo whose shared set is empty (only the head and tail are). The layer is
// the uncompressed tar named by $AIRLOCK_MEMBERS_TAR, or else 64 MB of
// text files written to a temporary folder.
func BenchmarkRawHash(b *testing.B) {
	path := os.Getenv("AIRLOCK_MEMBERS_TAR")
	if path == "" {
		path = textTar(b, 64<<20)
	}
	img, size := tarImage(b, path)
	for _, l := range []struct {
		name  string
		level int
	}{{"fast", pgzip.BestSpeed}, {"default", pgzip.DefaultCompression}} {
		for _, mode := range []string{"source", "memo"} {
			b.Run(fmt.Sprintf("level=%s/%s", l.name, mode), func(b *testing.B) {
				var hashed int
				src := &mapSource{level: l.level, m: map[[32]byte][]byte{}}
				b.SetBytes(size)
				cpu := cpuTime()
				for b.Loop() {
					hashed = 0
					opts := []rootfs.Option{rootfs.WithLevel(l.level), rootfs.WithMemberSource(src), rootfs.WithMembers(func(m rootfs.Member) {
						if m.RawSHA256 != ([32]byte{}) {
							hashed++
						}
					})}
					if mode == "memo" {
						opts = append(opts, rootfs.WithLayerMemo(rootfs.NewLayerMemo(nil)))
					}
					if _, err := rootfs.Write(context.Background(), io.Discard, img, opts...); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(hashed), "hashed-runs")
			})
		}
	}
}

// textTar writes a tar of text files of about size bytes into a temporary
// folder and returns its path.
func textTar(b *testing.B, size int) string {
	path := filepath.Join(b.TempDir(), "layer.tar")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(13, 14))
	tw := tar.NewWriter(f)
	for n, i := 0, 0; n < size; i++ {
		body := imagetest.Text(rng, 1+rng.IntN(40<<10))
		hdr := &tar.Header{Name: fmt.Sprintf("usr/share/pkg%03d/f%03d", i/100, i%100), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			b.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			b.Fatal(err)
		}
		n += len(body)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// tarImage is a one-layer image of the tar at path, and the tar's size.
func tarImage(b *testing.B, path string) (v1.Image, int64) {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, fileLayer(path))
	if err != nil {
		b.Fatal(err)
	}
	return img, fi.Size()
}
