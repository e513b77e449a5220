package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/verify"
)

// bigPartSize spans several stripe blocks (1 MiB) and is not a multiple of
// one, so the last block of every part is short; the last data part is
// shorter still and padded.
const bigPartSize = 2<<20 + 512*73

// bigSplit writes a bundle of one 6.5 MiB random payload in parts of
// bigPartSize with k parity parts.
func bigSplit(t *testing.T, k int) (f *fixture, data, parity []string) {
	t.Helper()
	f = newFixture(t)
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 6<<20+1<<19)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	f.data = map[string][]byte{"images/big/big-1.0.tgz": b}
	res := f.write(t, "b", bundle.WithPartSize(bigPartSize), bundle.WithParity(k))
	for _, p := range res.Extra {
		if strings.Contains(filepath.Base(p), ".parity.") {
			parity = append(parity, p)
		}
	}
	if len(res.Files) != 4 || len(parity) != k {
		t.Fatalf("%d data and %d parity parts, want 4 and %d", len(res.Files), len(parity), k)
	}
	return f, res.Files, parity
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	for name := range snapshot(t, dir) {
		if strings.HasSuffix(name, ".partial") {
			t.Fatalf("temporary file %s left behind", name)
		}
	}
}

// The parity of parts spanning several stripes follows docs/format.md
// section 11 at every block edge.
func TestParityAcrossStripes(t *testing.T) {
	_, data, parity := bigSplit(t, 2)
	n := len(data)
	shards := make([][]byte, n)
	for i, p := range data {
		shards[i] = readFile(t, p)
	}
	for k, p := range parity {
		got := readFile(t, p)
		if len(got) != bigPartSize {
			t.Fatalf("%s is %d bytes, want %d", p, len(got), bigPartSize)
		}
		for _, j := range []int{0, 1<<20 - 1, 1 << 20, 2<<20 - 1, 2 << 20, len(shards[n-1]) - 1, len(shards[n-1]), bigPartSize - 1} {
			var want byte
			for i := range n {
				if j < len(shards[i]) {
					want ^= gfMul(gfInv(byte((n+k)^i)), shards[i][j])
				}
			}
			if got[j] != want {
				t.Fatalf("%s byte %d = %#x, the spec gives %#x", p, j, got[j], want)
			}
		}
	}
}

func TestRepairAcrossStripes(t *testing.T) {
	f, data, parity := bigSplit(t, 1)
	for _, lost := range append(slices.Clone(data), parity...) {
		t.Run(filepath.Base(lost), func(t *testing.T) {
			orig := readFile(t, lost)
			if err := os.Remove(lost); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(lost, orig, 0o644)
			other := data[0]
			if lost == other {
				other = data[1]
			}
			res, err := bundle.Repair(context.Background(), findSet(t, f, other), f.dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Rebuilt, []string{lost}) || !bytes.Equal(readFile(t, lost), orig) {
				t.Fatalf("rebuilt %v; same bytes: %v", res.Rebuilt, bytes.Equal(readFile(t, lost), orig))
			}
			// Rebuilt from all the others (K=1), none of them hashed.
			others := slices.DeleteFunc(append(slices.Clone(data), parity...), func(p string) bool { return p == lost })
			if res.Pass != bundle.FastPass || res.Checked != 0 || res.FastPassFailed || !slices.Equal(res.From, others) {
				t.Fatalf("pass %v, checked %d, fast pass failed %v, from %v; want the fast pass from %v", res.Pass, res.Checked, res.FastPassFailed, res.From, others)
			}
			noTempFiles(t, f.dir)
		})
	}
}

// A part used to rebuild another is damaged: the part rebuilt on the fast
// pass does not match and is dropped; the full pass finds the damaged part
// and rebuilds both from the good ones.
func TestRepairFindsADamagedInputWhileRebuilding(t *testing.T) {
	f, data, parity := bigSplit(t, 2)
	orig0, orig1 := readFile(t, data[0]), readFile(t, data[1])
	os.Remove(data[1])
	flipByte(t, data[0], 2<<20+5) // in the third stripe
	res, err := bundle.Repair(context.Background(), findSet(t, f, data[2]), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Rebuilt, data[:2]) || !slices.Equal(res.Kept, []string{bundle.DamagedPath(data[0])}) {
		t.Fatalf("rebuilt %v, kept %v", res.Rebuilt, res.Kept)
	}
	// The fast pass failed; the full pass hashed the 5 parts at hand and
	// rebuilt from the 4 good ones.
	if res.Pass != bundle.FullPass || !res.FastPassFailed || res.Checked != 5 || !slices.Equal(res.From, append(slices.Clone(data[2:]), parity...)) {
		t.Fatalf("pass %v, fast pass failed %v, checked %d, from %v", res.Pass, res.FastPassFailed, res.Checked, res.From)
	}
	if !bytes.Equal(readFile(t, data[0]), orig0) || !bytes.Equal(readFile(t, data[1]), orig1) {
		t.Fatal("a rebuilt part differs from the original")
	}
	noTempFiles(t, f.dir)
	if _, err := f.verifyAll(data[0]); err != nil {
		t.Fatal(err)
	}
}

// A part not needed for the rebuild (K=2, one lost) is not read on the
// fast pass, so its damage is left for verify to find; a repair of the
// complete set then takes the full pass and rebuilds it.
func TestRepairFastPassLeavesASparePart(t *testing.T) {
	f, data, parity := bigSplit(t, 2)
	orig := readFile(t, parity[1])
	os.Remove(data[3])
	flipByte(t, parity[1], 1<<20)
	damaged := readFile(t, parity[1])
	res, err := bundle.Repair(context.Background(), findSet(t, f, data[0]), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass != bundle.FastPass || !slices.Equal(res.Rebuilt, []string{data[3]}) || len(res.Kept) != 0 ||
		!slices.Equal(res.From, append(slices.Clone(data[:3]), parity[0])) {
		t.Fatalf("pass %v, rebuilt %v, kept %v, from %v", res.Pass, res.Rebuilt, res.Kept, res.From)
	}
	if !bytes.Equal(readFile(t, parity[1]), damaged) {
		t.Fatal("the spare part changed")
	}
	if _, err := f.verifyAll(data[0]); err != nil { // the data parts are whole
		t.Fatal(err)
	}
	if err := findSet(t, f, data[0]).Check(context.Background(), 5); !verify.IsFailure(err) {
		t.Fatalf("check of the damaged spare part: %v", err)
	}

	res, err = bundle.Repair(context.Background(), findSet(t, f, data[0]), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass != bundle.FullPass || res.FastPassFailed || res.Checked != 6 ||
		!slices.Equal(res.Rebuilt, []string{parity[1]}) || !slices.Equal(res.Kept, []string{bundle.DamagedPath(parity[1])}) {
		t.Fatalf("pass %v, checked %d, rebuilt %v, kept %v", res.Pass, res.Checked, res.Rebuilt, res.Kept)
	}
	if !bytes.Equal(readFile(t, parity[1]), orig) {
		t.Fatal("rebuilt parity part differs")
	}
}

// Nothing missing, one part damaged (in its last block): the full pass
// finds it and rebuilds it.
func TestRepairFullPassAcrossStripes(t *testing.T) {
	f, data, parity := bigSplit(t, 1)
	orig := readFile(t, data[2])
	flipByte(t, data[2], bigPartSize-2)
	res, err := bundle.Repair(context.Background(), findSet(t, f, data[0]), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pass != bundle.FullPass || res.FastPassFailed || res.Checked != 5 ||
		!slices.Equal(res.Rebuilt, []string{data[2]}) || !slices.Equal(res.Kept, []string{bundle.DamagedPath(data[2])}) ||
		!slices.Equal(res.From, []string{data[0], data[1], data[3], parity[0]}) {
		t.Fatalf("pass %v, checked %d, rebuilt %v, kept %v, from %v", res.Pass, res.Checked, res.Rebuilt, res.Kept, res.From)
	}
	if !bytes.Equal(readFile(t, data[2]), orig) {
		t.Fatal("rebuilt part differs")
	}
	noTempFiles(t, f.dir)
}

// One part lost and another damaged, with K=1: the part rebuilt on the
// fast pass does not match, the full pass finds the damaged one, and the
// answer is a refusal naming both, with the folder as it was (no temporary
// file, no rebuilt part).
func TestRepairRefusesWhenRebuildingFindsOneTooMany(t *testing.T) {
	f, data, _ := bigSplit(t, 1)
	os.Remove(data[1])
	flipByte(t, data[2], 3)
	before := snapshot(t, f.dir)
	_, err := bundle.Repair(context.Background(), findSet(t, f, data[0]), f.dir)
	var pe *bundle.PartsError
	if !errors.As(err, &pe) || !verify.IsFailure(err) {
		t.Fatalf("err = %v, want a PartsError", err)
	}
	for _, want := range []string{"2 parts are lost", "b.tar.002 is missing", "b.tar.003: sha256 differs", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertUnchanged(t, f.dir, before)
	noTempFiles(t, f.dir)
}

// Checking one part alone reads it in several blocks: damage in a later
// one is found, and the part's hash is the one in the index otherwise.
func TestCheckAcrossStripes(t *testing.T) {
	f, data, parity := bigSplit(t, 1)
	set := findSet(t, f, append(slices.Clone(data), parity...)...)
	for i := range append(slices.Clone(data), parity...) {
		if err := set.Check(context.Background(), i); err != nil {
			t.Fatalf("%s: %v", set.Name(i), err)
		}
	}
	flipByte(t, data[1], bigPartSize-1)
	if err := set.Check(context.Background(), 1); !verify.IsFailure(err) || !strings.Contains(err.Error(), "sha256 differs") {
		t.Fatalf("damaged last byte: %v", err)
	}
}

// cancelOnFirstCheck is a context that Repair finds live on its first
// look, and that is cancelled right then: the cancellation reaches Repair
// in the middle of its work.
type cancelOnFirstCheck struct {
	context.Context
	cancel  context.CancelFunc
	checked atomic.Bool
}

func (c *cancelOnFirstCheck) Err() error {
	if !c.checked.Swap(true) {
		c.cancel()
		return nil
	}
	return c.Context.Err()
}

// A cancelled repair stops, writes nothing and leaves no temporary file:
// cancelled before it starts, while it rebuilds (fast pass) and while it
// hashes (full pass).
func TestRepairCancelled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(data []string)
		ctx    func() context.Context
	}{
		{"before", func(data []string) { os.Remove(data[1]) }, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
		{"fast pass", func(data []string) { os.Remove(data[1]) }, nil},
		{"full pass", func(data []string) { flipByte(t, data[1], 7) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, data, _ := bigSplit(t, 1)
			tc.damage(data)
			var ctx context.Context
			if tc.ctx != nil {
				ctx = tc.ctx()
			} else {
				inner, cancel := context.WithCancel(context.Background())
				defer cancel()
				ctx = &cancelOnFirstCheck{Context: inner, cancel: cancel}
			}
			before := snapshot(t, f.dir)
			if _, err := bundle.Repair(ctx, findSet(t, f, data[0]), f.dir); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			assertUnchanged(t, f.dir, before)
		})
	}
}
