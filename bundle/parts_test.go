package bundle_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/verify"
)

const testPartSize = 4096

// splitBundle writes a bundle in parts of 4 KiB with k parity parts and
// returns every file it wrote: data parts, parity parts, index, signature.
func splitBundle(t *testing.T, f *fixture, k int) (data, parity []string) {
	t.Helper()
	res := f.write(t, "b", bundle.WithPartSize(testPartSize), bundle.WithParity(k))
	for _, p := range res.Extra {
		if strings.Contains(filepath.Base(p), ".parity.") {
			parity = append(parity, p)
		}
	}
	if len(parity) != k || len(res.Extra) != k+2 {
		t.Fatalf("extra files %v, want %d parity parts, the index and its signature", res.Extra, k)
	}
	return res.Files, parity
}

func findSet(t *testing.T, f *fixture, args ...string) *bundle.PartSet {
	t.Helper()
	set, err := bundle.FindSet(args, f.trusted)
	if err != nil || set == nil {
		t.Fatalf("FindSet(%v) = %v, %v", args, set, err)
	}
	return set
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			out[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// assertUnchanged fails unless dir holds exactly the files of before,
// byte for byte.
func assertUnchanged(t *testing.T, dir string, before map[string][]byte) {
	t.Helper()
	after := snapshot(t, dir)
	if !maps.EqualFunc(after, before, bytes.Equal) {
		t.Fatalf("folder changed: now %v, had %v", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
	}
}

func TestIndexListsEveryPart(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 2)
	x := findSet(t, f, data[0]).Index
	if len(x.Data) != len(data) || len(x.Parity) != 2 || x.PartSize != testPartSize {
		t.Fatalf("index: %d data, %d parity, part size %d", len(x.Data), len(x.Parity), x.PartSize)
	}
	var total int64
	for i, p := range data {
		fi, _ := os.Stat(p)
		total += fi.Size()
		if x.Data[i].Size != fi.Size() || x.Data[i].Name != filepath.Base(p) {
			t.Errorf("data part %d: index says %s %d bytes, file is %s %d", i, x.Data[i].Name, x.Data[i].Size, p, fi.Size())
		}
	}
	if total != x.StreamSize {
		t.Errorf("stream size %d, parts hold %d", x.StreamSize, total)
	}
	for _, p := range parity {
		if fi, _ := os.Stat(p); fi.Size() != testPartSize {
			t.Errorf("%s is %d bytes, want %d", p, fi.Size(), testPartSize)
		}
		if strings.HasPrefix(filepath.Base(p), "b.tar") {
			t.Errorf("parity part %s would be caught by cat b.tar*", p)
		}
	}
	// The index parses back to itself.
	raw := readFile(t, filepath.Join(f.dir, "b.parts.sha256"))
	back, err := bundle.ParseIndex(raw)
	if err != nil || !bytes.Equal(back.Marshal(), raw) {
		t.Fatalf("ParseIndex round trip: %v", err)
	}
}

func TestEachPartAloneFromItsOwnFolder(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 1)
	for i, p := range append(data, parity...) {
		disc := filepath.Join(f.dir, "disc"+string(rune('a'+i)))
		os.Mkdir(disc, 0o755)
		for _, name := range []string{filepath.Base(p), "b.parts.sha256", "b.parts.sha256.sig"} {
			copyFile(t, filepath.Join(f.dir, name), filepath.Join(disc, name))
		}
		set := findSet(t, f, filepath.Join(disc, filepath.Base(p)))
		at := slices.IndexFunc(set.Paths, func(s string) bool { return s != "" })
		if err := set.Check(context.Background(), at); err != nil {
			t.Errorf("%s alone: %v", p, err)
		}
		if got := len(set.Missing()); got != len(data) {
			t.Errorf("%s alone: %d missing, want %d", p, got, len(data))
		}
	}
}

func TestRepairAnyOneLostDataPart(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 1)
	for i := range data {
		t.Run(filepath.Base(data[i]), func(t *testing.T) {
			dir := t.TempDir()
			for _, p := range append(append([]string(nil), data...), parity...) {
				if p != data[i] {
					copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
				}
			}
			copyFile(t, filepath.Join(f.dir, "b.parts.sha256"), filepath.Join(dir, "b.parts.sha256"))
			copyFile(t, filepath.Join(f.dir, "b.parts.sha256.sig"), filepath.Join(dir, "b.parts.sha256.sig"))
			set := findSet(t, f, filepath.Join(dir, "b.tar.001"))
			if i == 0 {
				set = findSet(t, f, filepath.Join(dir, "b.tar.002"))
			}
			res, err := bundle.Repair(context.Background(), set, dir)
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, filepath.Base(data[i]))
			if !slices.Equal(res.Rebuilt, []string{want}) || res.Pass != bundle.FastPass {
				t.Fatalf("rebuilt %v (pass %v), want %s on the fast pass", res.Rebuilt, res.Pass, want)
			}
			if !bytes.Equal(readFile(t, want), readFile(t, data[i])) {
				t.Fatal("rebuilt part differs from the original")
			}
			if _, err := f.verifyAll(filepath.Join(dir, "b.tar.001")); err != nil {
				t.Fatalf("verify after repair: %v", err)
			}
		})
	}
}

func TestRepairDamagedByte(t *testing.T) {
	for _, which := range []string{"b.tar.002", "b.parity.001"} {
		t.Run(which, func(t *testing.T) {
			f := newFixture(t)
			splitBundle(t, f, 1)
			p := filepath.Join(f.dir, which)
			orig := readFile(t, p)
			flipByte(t, p, 1000)
			set := findSet(t, f, filepath.Join(f.dir, "b.tar.001"))
			res, err := bundle.Repair(context.Background(), set, f.dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Rebuilt, []string{p}) || !slices.Equal(res.Kept, []string{bundle.DamagedPath(p)}) {
				t.Fatalf("rebuilt %v kept %v", res.Rebuilt, res.Kept)
			}
			if n := len(set.Index.Files()); res.Pass != bundle.FullPass || res.Checked != n || res.FastPassFailed {
				t.Fatalf("pass %v, checked %d of %d, fast pass failed %v; want the full pass", res.Pass, res.Checked, n, res.FastPassFailed)
			}
			if !bytes.Equal(readFile(t, p), orig) {
				t.Fatal("repaired part differs from the original")
			}
			if bytes.Equal(readFile(t, bundle.DamagedPath(p)), orig) {
				t.Fatal("the damaged copy was not kept")
			}
			// A second run finds nothing to do.
			res, err = bundle.Repair(context.Background(), findSet(t, f, filepath.Join(f.dir, "b.tar.001")), f.dir)
			if err != nil || len(res.Rebuilt) != 0 {
				t.Fatalf("second repair: %v, %v", res, err)
			}
		})
	}
}

func TestRepairTwoWithTwoParity(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 2)
	orig := readFile(t, data[len(data)-1])
	os.Remove(data[len(data)-1]) // the short last part
	os.Remove(parity[0])
	flipByte(t, data[0], 10) // one more than known: found while decoding
	before := snapshot(t, f.dir)
	set := findSet(t, f, data[1])
	_, err := bundle.Repair(context.Background(), set, f.dir)
	var pe *bundle.PartsError
	if !errors.As(err, &pe) || !verify.IsFailure(err) || !strings.Contains(err.Error(), "b.tar.001: sha256 differs") {
		t.Fatalf("three lost with K=2: %v", err)
	}
	assertUnchanged(t, f.dir, before)
	// Undo the damage: two lost, two parity parts.
	flipByte(t, data[0], 10)
	res, err := bundle.Repair(context.Background(), findSet(t, f, data[1]), f.dir)
	if err != nil || len(res.Rebuilt) != 2 {
		t.Fatalf("repair: %v, %v", res, err)
	}
	if !bytes.Equal(readFile(t, data[len(data)-1]), orig) {
		t.Fatal("rebuilt last part differs")
	}
	if _, err := f.verifyAll(data[0]); err != nil {
		t.Fatal(err)
	}
}

func TestRepairRefusesMoreThanParity(t *testing.T) {
	f := newFixture(t)
	data, _ := splitBundle(t, f, 1)
	os.Remove(data[1])
	os.Remove(data[2])
	before := snapshot(t, f.dir)
	_, err := bundle.Repair(context.Background(), findSet(t, f, data[0]), f.dir)
	var pe *bundle.PartsError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PartsError", err)
	}
	for _, want := range []string{"2 parts are lost", "b.tar.002 is missing", "b.tar.003 is missing", "bring back any 1 of: b.tar.002, b.tar.003", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertUnchanged(t, f.dir, before)
}

func TestRepairNeverReplacesAnotherFile(t *testing.T) {
	f := newFixture(t)
	data, _ := splitBundle(t, f, 1)
	out := filepath.Join(f.dir, "out")
	os.Mkdir(out, 0o755)
	os.WriteFile(filepath.Join(out, "b.tar.002"), []byte("someone else's file"), 0o644)
	os.Remove(data[1])
	_, err := bundle.Repair(context.Background(), findSet(t, f, data[0]), out)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
	if string(readFile(t, filepath.Join(out, "b.tar.002"))) != "someone else's file" {
		t.Fatal("replaced a file")
	}
}

// TestParityFollowsTheSpec recomputes the parity part the way docs/format.md
// section 11 describes, without the library.
func TestParityFollowsTheSpec(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 2)
	n := len(data)
	shards := make([][]byte, n)
	for i, p := range data {
		b := readFile(t, p)
		shards[i] = append(b, make([]byte, testPartSize-len(b))...)
	}
	for k, p := range parity {
		got := readFile(t, p)
		for j := range testPartSize {
			var want byte
			for i := range n {
				want ^= gfMul(gfInv(byte((n+k)^i)), shards[i][j])
			}
			if got[j] != want {
				t.Fatalf("%s byte %d = %#x, the spec gives %#x", p, j, got[j], want)
			}
		}
	}
}

// gfMul multiplies in GF(2^8) modulo x^8+x^4+x^3+x^2+1 (0x11d).
func gfMul(a, b byte) byte {
	var p byte
	for b > 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1d
		}
		b >>= 1
	}
	return p
}

func gfInv(a byte) byte {
	for b := 1; b < 256; b++ {
		if gfMul(a, byte(b)) == 1 {
			return byte(b)
		}
	}
	panic("no inverse of 0")
}

// An extra copy of the last part (NAME.tar.00N+1) is left out, as
// `sha256sum --ignore-missing -c` and `cat NAME.tar.0* | tar -x` leave it
// out, but never silently: Ignored names it, with the index and without.
func TestExtraPartIsNamedAndLeftOut(t *testing.T) {
	for _, withIndex := range []bool{true, false} {
		t.Run(fmt.Sprintf("index=%v", withIndex), func(t *testing.T) {
			f := newFixture(t)
			data, _ := splitBundle(t, f, 1)
			extra := bundle.PartPath(filepath.Join(f.dir, "b"), len(data)+1)
			copyFile(t, data[len(data)-1], extra)
			if !withIndex {
				os.Remove(bundle.IndexPath(filepath.Join(f.dir, "b")))
			}
			r, err := bundle.Open(data[:1], f.trusted)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.VerifyAll(context.Background(), bundle.Watcher{}); err != nil {
				t.Fatal(err)
			}
			if len(r.Ignored) != 1 || r.Ignored[0].Path != extra || !strings.Contains(r.Ignored[0].Reason, "not a part of this bundle") {
				t.Fatalf("ignored %+v, want %s named as not a part", r.Ignored, extra)
			}
		})
	}
}

// The damaged copy of a part and the one repair -o DIR rebuilt, given
// together: the good one is used and the damaged one named; two damaged
// copies fail naming both.
func TestDuplicateCopiesOfAPart(t *testing.T) {
	f := newFixture(t)
	data, parity := splitBundle(t, f, 1)
	out := filepath.Join(f.dir, "out")
	os.Mkdir(out, 0o755)
	good := filepath.Join(out, filepath.Base(data[1]))
	copyFile(t, data[1], good)
	flipByte(t, data[1], 10)
	args := append(append([]string{}, data...), good)
	set := findSet(t, f, append(args, parity...)...)
	if set.Paths[1] != good || len(set.Ignored) != 1 || set.Ignored[0].Path != data[1] ||
		!strings.Contains(set.Ignored[0].Reason, "a damaged copy of b.tar.002") {
		t.Fatalf("paths %v, ignored %+v", set.Paths, set.Ignored)
	}
	if _, err := f.verifyAll(args...); err != nil {
		t.Fatalf("verify with both copies: %v", err)
	}
	flipByte(t, good, 11)
	_, err := bundle.FindSet(args, f.trusted)
	wantErr(t, err, "b.tar.002: is given 2 times and no copy matches", data[1], good)
	if !verify.IsFailure(err) {
		t.Errorf("IsFailure(%v) = false", err)
	}
}
