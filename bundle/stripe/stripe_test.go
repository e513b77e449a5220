package stripe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockhq/airlock/bundle/stripe"
)

// parts writes n data parts of size bytes (the last one short) and returns
// their paths, contents and sizes.
func parts(t *testing.T, dir string, n int, size int64) ([]string, [][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var paths []string
	var data [][]byte
	for i := range n {
		b := make([]byte, size)
		if i == n-1 {
			b = b[:size/3]
		}
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		p := filepath.Join(dir, "d"+string(rune('0'+i)))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths, data = append(paths, p), append(data, b)
	}
	return paths, data
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func create(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Parity written by Encode, over parts spanning several blocks, rebuilds
// any lost data part byte for byte; Hash and HashFile agree with SHA-256.
func TestEncodeRebuildHash(t *testing.T) {
	dir := t.TempDir()
	const shard = 3<<20 + 17 // several blocks, not a multiple of one
	paths, data := parts(t, dir, 4, shard)
	var ins []*stripe.In
	for i, p := range paths {
		ins = append(ins, &stripe.In{Path: p, Size: int64(len(data[i])), Pos: i})
	}
	outs := []*stripe.Out{
		{File: create(t, filepath.Join(dir, "p0")), Name: "p0", Size: shard, Pos: 4},
		{File: create(t, filepath.Join(dir, "p1")), Name: "p1", Size: shard, Pos: 5},
	}
	if err := stripe.Encode(context.Background(), shard, ins, outs); err != nil {
		t.Fatal(err)
	}
	for _, out := range outs {
		b, _ := os.ReadFile(filepath.Join(dir, out.Name))
		if int64(len(b)) != shard || out.Sum != sum(b) {
			t.Fatalf("%s: %d bytes, sum %s, want %d bytes, %s", out.Name, len(b), out.Sum, shard, sum(b))
		}
	}
	// lose data parts 1 and 3 (the short last one): rebuild from 0, 2 and both parity parts.
	from := []*stripe.In{ins[0], ins[2],
		{Path: filepath.Join(dir, "p0"), Size: shard, Pos: 4}, {Path: filepath.Join(dir, "p1"), Size: shard, Pos: 5}}
	re := []*stripe.Out{
		{File: create(t, filepath.Join(dir, "r1")), Name: "r1", Size: int64(len(data[1])), Pos: 1},
		{File: create(t, filepath.Join(dir, "r3")), Name: "r3", Size: int64(len(data[3])), Pos: 3},
	}
	if err := stripe.Rebuild(context.Background(), shard, 4, 2, from, re); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		out  *stripe.Out
		want []byte
	}{{re[0], data[1]}, {re[1], data[3]}} {
		got, _ := os.ReadFile(filepath.Join(dir, k.out.Name))
		if !bytes.Equal(got, k.want) || k.out.Sum != sum(k.want) {
			t.Fatalf("rebuilt %s differs (%d bytes, want %d)", k.out.Name, len(got), len(k.want))
		}
	}
	if err := stripe.Hash(context.Background(), shard, ins); err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		one, err := stripe.HashFile(context.Background(), in.Path, in.Size)
		if err != nil || in.Sum != sum(data[i]) || one != in.Sum {
			t.Fatalf("part %d: Hash %s, HashFile %s (%v), want %s", i, in.Sum, one, err, sum(data[i]))
		}
	}
}

// A short input fails the pass naming it; a cancelled pass stops.
func TestPassFailures(t *testing.T) {
	dir := t.TempDir()
	paths, data := parts(t, dir, 2, 1<<20)
	ins := []*stripe.In{{Path: paths[0], Size: int64(len(data[0])) + 5, Pos: 0}}
	if err := stripe.Hash(context.Background(), 1<<20+5, ins); err == nil || !bytes.Contains([]byte(err.Error()), []byte(paths[0])) {
		t.Fatalf("short part: err = %v, want one naming %s", err, paths[0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ins = []*stripe.In{{Path: paths[0], Size: int64(len(data[0])), Pos: 0}, {Path: paths[1], Size: int64(len(data[1])), Pos: 1}}
	out := &stripe.Out{File: create(t, filepath.Join(dir, "p")), Name: "p", Size: 1 << 20, Pos: 2}
	if err := stripe.Encode(ctx, 1<<20, ins, []*stripe.Out{out}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}
