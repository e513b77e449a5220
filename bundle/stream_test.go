package bundle_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// streamFixture is a format 2 bundle's content: images made of members,
// some shared, and the payloads in the order a streaming writer adds
// them (each member at its first appearance, then recipes, MEMBERS and
// TGZSUMS), as member entries: the layout of earlier writers, which
// readers still read and any head slot may hold.
type streamFixture struct {
	images   []manifest.Entry
	payloads []bundle.Payload
}

func newStreamFixture(t *testing.T, images, membersEach, memberSize int) *streamFixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	body := func() []byte {
		b := make([]byte, memberSize/2+rng.IntN(memberSize))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	shared := [][]byte{body(), body()}
	f := &streamFixture{}
	seen := map[string]bool{}
	var carried []string
	for i := range images {
		key := fmt.Sprintf("app%02d/app%02d-1.0.tgz", i, i)
		e := manifest.Entry{Path: manifest.ImagesFolder + key, TarSize: 1 << 20, Recipe: manifest.RecipePath(key),
			Image: &manifest.Image{Name: fmt.Sprintf("app%02d", i), Version: "1.0", Key: key}}
		var tgz []byte
		bodies := append([][]byte{}, shared...)
		for range membersEach {
			bodies = append(bodies, body())
		}
		for _, b := range bodies {
			sum := sha(b)
			e.Members = append(e.Members, sum)
			tgz = append(tgz, b...)
			if !seen[sum] {
				seen[sum] = true
				carried = append(carried, sum)
				f.payloads = append(f.payloads, bundle.Payload{Path: manifest.MemberPath(sum), Size: int64(len(b)), SHA256: sum, Open: opener(b)})
			}
		}
		e.Size, e.SHA256 = int64(len(tgz)), sha(tgz)
		f.images = append(f.images, e)
	}
	var entries []manifest.Entry
	for _, name := range carried {
		entries = append(entries, manifest.Entry{Path: manifest.MemberPath(name)})
	}
	table := manifest.MemberTable(entries, nil)
	for i := range f.images {
		if err := manifest.IndexMembers(&f.images[i], table); err != nil {
			t.Fatal(err)
		}
		f.payloads = append(f.payloads, bundle.Payload{Path: f.images[i].Recipe, Open: opener(manifest.RecipeBytes(&f.images[i]))})
	}
	f.payloads = append(f.payloads,
		bundle.Payload{Path: manifest.TableName, Open: opener(manifest.TableBytes(table))},
		bundle.Payload{Path: manifest.TGZSumsName, Open: opener(manifest.TGZSums(f.images))})
	return f
}

// finish adds f's payloads to s and finishes it.
func (f *streamFixture) finish(t *testing.T, s *bundle.Stream, priv ed25519.PrivateKey) (*bundle.Result, error) {
	t.Helper()
	for _, p := range f.payloads {
		if err := s.Add(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return s.Finish(context.Background(), priv, bundle.WithImages(f.images))
}

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func TestStreamFitsTheHeadSlot(t *testing.T) {
	f := newStreamFixture(t, 60, 60, 300) // a head of ~1.5 MiB: a slot of 2 MiB
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	var want []byte
	for _, tc := range []struct {
		name      string
		estimate  int64
		opts      []bundle.Option
		reslotted string
	}{
		{"estimate right", 2 << 20, nil, ""},
		{"estimate low, shifted", 0, nil, "shifted"},
		{"estimate high, shifted", 9 << 20, nil, "shifted"},
		{"estimate low, copied", 0, []bundle.Option{bundle.WithoutShift()}, "copied"},
		{"estimate high, copied", 5 << 20, []bundle.Option{bundle.WithoutShift()}, "copied"},
	} {
		base := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		s, err := bundle.NewStream(base, tc.estimate, append([]bundle.Option{bundle.WithCreated(bundletest.Created)}, tc.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.finish(t, s, priv)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Reslotted != tc.reslotted && !(tc.reslotted == "shifted" && s.Reslotted == "copied") {
			t.Errorf("%s: reslotted %q, want %q", tc.name, s.Reslotted, tc.reslotted)
		}
		got := readFile(t, res.Files[0])
		if int64(len(got)) != res.Bytes {
			t.Errorf("%s: file is %d bytes, result says %d", tc.name, len(got), res.Bytes)
		}
		// The same payloads give the same bytes, whatever the estimate.
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s: the bundle differs from the one with the right estimate", tc.name)
		}
		entries := readStream(t, res.Files, trusted)
		if len(entries) != len(f.payloads) {
			t.Errorf("%s: read %d payload entries, want %d", tc.name, len(entries), len(f.payloads))
		}
		for i, p := range f.payloads {
			if i < len(entries) && entries[i] != p.Path {
				t.Errorf("%s: entry %d is %s, want %s (the order added)", tc.name, i, entries[i], p.Path)
				break
			}
		}
	}
	// The head is HEAD.pad-padded to 2 MiB: the first payload starts there.
	off := headEnd(t, want)
	if off != 2<<20 {
		t.Errorf("payloads start at %d, want %d", off, 2<<20)
	}
}

// headEnd is where the first entry after HEAD.pad starts in a bundle.
func headEnd(t *testing.T, b []byte) int64 {
	t.Helper()
	for off := int64(0); off+512 <= int64(len(b)); {
		name := string(bytes.TrimRight(b[off:off+100], "\x00"))
		var size int64
		fmt.Sscanf(strings.TrimRight(string(b[off+124:off+136]), "\x00 "), "%o", &size)
		next := off + 512 + (size+511)/512*512
		if name == manifest.HeadPadName {
			return next
		}
		off = next
	}
	t.Fatal("no HEAD.pad in the bundle")
	return 0
}

// readStream reads the bundle in files with the verifying reader and
// returns its payload entries' paths in stream order.
func readStream(t *testing.T, files []string, trusted []keys.Public) []string {
	t.Helper()
	r, err := bundle.Open(files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var paths []string
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return paths
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, e); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, e.Path)
	}
}

func TestStreamInParts(t *testing.T) {
	f := newStreamFixture(t, 60, 60, 300)
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	const part = 256 << 10
	for _, estimate := range []int64{2 << 20, 0, 4 << 20} {
		base := filepath.Join(dir, fmt.Sprintf("b%d", estimate))
		s, err := bundle.NewStream(base, estimate, bundle.WithCreated(bundletest.Created), bundle.WithPartSize(part), bundle.WithParity(2))
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.finish(t, s, priv)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{true: "", false: "copied"}[estimate == 2<<20]; s.Reslotted != want {
			t.Errorf("estimate %d: reslotted %q, want %q", estimate, s.Reslotted, want)
		}
		if n := len(readStream(t, res.Files, trusted)); n != len(f.payloads) {
			t.Errorf("estimate %d: read %d payload entries, want %d", estimate, n, len(f.payloads))
		}
		// The part index holds the parts as they are after the head was
		// written into the slot, and the parity rebuilds them.
		set := findSet2(t, res.Files[0], trusted)
		if _, err := set.CheckAll(context.Background(), bundle.CheckOptions{}); err != nil {
			t.Fatalf("estimate %d: part check: %v", estimate, err)
		}
		if err := os.Remove(res.Files[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := bundle.Repair(context.Background(), findSet2(t, res.Files[1], trusted), dir); err != nil {
			t.Fatalf("estimate %d: repairing part 1: %v", estimate, err)
		}
		if n := len(readStream(t, res.Files, trusted)); n != len(f.payloads) {
			t.Errorf("estimate %d: after repair, read %d payload entries, want %d", estimate, n, len(f.payloads))
		}
	}
}

func TestStreamFailureLeavesNothing(t *testing.T) {
	f := newStreamFixture(t, 3, 3, 2000)
	dir := t.TempDir()
	priv, _ := slotKey(t, dir)
	out := t.TempDir()
	for name, run := range map[string]func(s *bundle.Stream) error{
		"a payload that is not what it claims": func(s *bundle.Stream) error {
			p := f.payloads[0]
			p.SHA256 = strings.Repeat("0", 64)
			return s.Add(context.Background(), p)
		},
		"a head that does not validate": func(s *bundle.Stream) error {
			for _, p := range f.payloads[1:] { // the first member missing
				if err := s.Add(context.Background(), p); err != nil {
					return err
				}
			}
			_, err := s.Finish(context.Background(), priv, bundle.WithImages(f.images))
			return err
		},
		"cancelled": func(s *bundle.Stream) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return s.Add(ctx, f.payloads[0])
		},
	} {
		s, err := bundle.NewStream(filepath.Join(out, "b"), 0, bundle.WithCreated(bundletest.Created))
		if err != nil {
			t.Fatal(err)
		}
		err = run(s)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if name == "a payload that is not what it claims" && !verify.IsFailure(err) {
			t.Errorf("%s: %v, want a verification failure", name, err)
		}
		if left, _ := os.ReadDir(out); len(left) != 0 {
			t.Errorf("%s: left %d files in the output folder", name, len(left))
		}
	}
}

func findSet2(t *testing.T, file string, trusted []keys.Public) *bundle.PartSet {
	t.Helper()
	set, err := bundle.FindSet([]string{file}, trusted)
	if err != nil || set == nil {
		t.Fatalf("FindSet(%s) = %v, %v", file, set, err)
	}
	return set
}
