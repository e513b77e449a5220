package rootfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// mapSource holds members by the SHA-256 of their runs, as an export
// remembers the members of the images it converted before.
type mapSource struct {
	mu    sync.Mutex
	level int
	m     map[[32]byte][]byte
}

func (s *mapSource) Member(raw [32]byte, level int) ([]byte, [32]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[raw]
	return b, sha256.Sum256(b), ok && level == s.level
}

func (s *mapSource) add(tgz []byte, ms []rootfs.Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		if m.RawSHA256 != ([32]byte{}) { // a run not hashed
			s.m[m.RawSHA256] = tgz[m.Offset : m.Offset+m.Size]
		}
	}
}

// onBase returns n images on one base of compressible text (about
// baseBytes), each with a small top layer and config of its own.
func onBase(t testing.TB, n, baseBytes int) []v1.Image {
	rng := rand.New(rand.NewPCG(9, 10))
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
	var out []v1.Image
	for i := range n {
		top := []imagetest.File{imagetest.Dir("app", 0o755)}
		for f := range 5 {
			top = append(top, imagetest.File{Name: fmt.Sprintf("app/%d-%d", i, f), Body: text(3000)})
		}
		out = append(out, imagetest.Configure(t, imagetest.Image(t, base, top), func(c *v1.Config) { c.Env = []string{fmt.Sprintf("APP=%d", i)} }))
	}
	return out
}

// TestMemberSourceSkipsCompression: with a source holding image a's
// members, image b's runs that a has are copied, not compressed, and b's
// tgz is the same bytes as without the source.
func TestMemberSourceSkipsCompression(t *testing.T) {
	imgs := onBase(t, 2, 8<<20)
	src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
	with := rootfs.WithMemberSource(src)
	tgzA, msA := writeMembers(t, imgs[0], with)
	for _, m := range msA {
		if m.RawSHA256 == ([32]byte{}) {
			t.Fatalf("member %d of a: no RawSHA256 with a source", m.Index)
		}
	}
	src.add(tgzA, msA)
	plain, _ := writeMembers(t, imgs[1])
	tgzB, msB := writeMembers(t, imgs[1], with)
	if !bytes.Equal(plain, tgzB) {
		t.Fatal("b's tgz differs with a member source")
	}
	var reused, fresh int
	for _, m := range msB {
		if m.Reused {
			reused++
		} else {
			fresh++
		}
	}
	if reused == 0 || fresh == 0 {
		t.Fatalf("b: %d members reused, %d compressed; want the base's reused and the head and top compressed", reused, fresh)
	}
	// At another level nothing is reused, and the bytes are that level's.
	fast, _ := writeMembers(t, imgs[1], rootfs.WithLevel(1))
	fastWith, ms := writeMembers(t, imgs[1], rootfs.WithLevel(1), with)
	for _, m := range ms {
		if m.Reused {
			t.Fatalf("member %d reused at another level", m.Index)
		}
	}
	if !bytes.Equal(fast, fastWith) {
		t.Fatal("level 1 tgz differs with a member source")
	}
}

// BenchmarkMemberSource: the second of two images on one 32 MB base,
// written with and without a source holding the first image's members.
func BenchmarkMemberSource(b *testing.B) {
	imgs := onBase(b, 2, 32<<20)
	src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
	tgzA, msA := writeMembers(b, imgs[0], rootfs.WithMemberSource(src))
	src.add(tgzA, msA)
	for _, bc := range []struct {
		name string
		opts []rootfs.Option
	}{{"compress", nil}, {"source", []rootfs.Option{rootfs.WithMemberSource(src)}}} {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			opts := append([]rootfs.Option{rootfs.WithMembers(func(m rootfs.Member) { n = m.TarOffset + m.TarSize })}, bc.opts...)
			cpu := cpuTime()
			for b.Loop() {
				if _, err := rootfs.Write(context.Background(), io.Discard, imgs[1], opts...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.SetBytes(n)
		})
	}
}
