package bundle_test

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// packFixture is one image made of three members, all in its pack
// (docs/format-v2.md section 6), with its recipe and TGZSUMS.
func packFixture(names []string, bodies [][]byte) (manifest.Entry, []bundle.Payload) {
	key := "app/app-1.0.tgz"
	var whole []byte
	pack := bundle.Payload{Path: manifest.PackPath(key), Members: names}
	for _, b := range bodies {
		whole = append(whole, b...)
		pack.MemberSizes = append(pack.MemberSizes, int64(len(b)))
	}
	pack.Size, pack.Open = int64(len(whole)), opener(whole)
	im := manifest.Entry{Path: manifest.ImagesFolder + key, Size: int64(len(whole)), SHA256: sha(whole), TarSize: 4096,
		Image: &manifest.Image{Name: "app", Version: "1.0", Key: key}, Members: names, Recipe: manifest.RecipePath(key)}
	pe := manifest.Entry{Path: pack.Path, Size: pack.Size, Members: pack.Members, MemberSizes: pack.MemberSizes}
	layout := (&manifest.Manifest{Entries: []manifest.Entry{pe}}).Layout()
	return im, []bundle.Payload{pack,
		{Path: im.Recipe, Open: opener(layout.Recipe(&im))},
		{Path: manifest.TGZSumsName, Open: opener(manifest.TGZSums([]manifest.Entry{im}))}}
}

// A pack whose bytes are what its signed sha256 says, but one of whose
// members does not hash to its name, is refused by the reader (rule 8),
// naming the pack, the member and the image using it.
func TestReaderChecksEachMemberOfAPack(t *testing.T) {
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	bodies := [][]byte{[]byte("head run"), []byte("files run"), []byte("tail run")}
	names := []string{sha(bodies[0]), sha(bodies[1]), sha(bodies[2])}
	liar := sha([]byte("not the files run"))
	im, payloads := packFixture([]string{names[0], liar, names[2]}, bodies)
	// With the pack's own sum given, the writer checks only that sum
	// (what export does for a tgz it staged itself), so it writes this.
	var whole []byte
	for _, b := range bodies {
		whole = append(whole, b...)
	}
	payloads[0].SHA256 = sha(whole)
	res, err := bundle.Write(context.Background(), filepath.Join(dir, "liar"), priv, payloads,
		bundle.WithImages([]manifest.Entry{im}), bundle.WithCreated(bundletest.Created))
	if err != nil {
		t.Fatal(err)
	}
	r, err := bundle.Open(res.Files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ve *verify.Error
	for {
		e, err := r.Next()
		if err == nil {
			_, err = io.Copy(io.Discard, e)
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("the reader took a pack whose member does not hash to its name")
		}
		if err != nil {
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a verification failure", err)
			}
			break
		}
	}
	for _, want := range []string{manifest.PackPath("app/app-1.0.tgz"), "member 1 (" + liar + ")", "has sha256 " + names[1], "member 1 of images/app/app-1.0.tgz"} {
		if !strings.Contains(ve.Error(), want) {
			t.Errorf("error %q does not say %q", ve, want)
		}
	}
	if ve.Member != liar {
		t.Errorf("Member = %q, want %s", ve.Member, liar)
	}
}

// Without a sum, a pack is hashed as it is written and each member checked
// against its name: a member that does not match fails the bundle, naming
// it, and leaves nothing behind; one that matches gives the pack's sum.
func TestStreamChecksPackMembers(t *testing.T) {
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	bodies := [][]byte{[]byte("head run"), []byte("files run"), []byte("tail run")}
	names := []string{sha(bodies[0]), sha(bodies[1]), sha(bodies[2])}

	im, payloads := packFixture(names, bodies)
	s, err := bundle.NewStream(filepath.Join(dir, "good"), 0, bundle.WithCreated(bundletest.Created))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if err := s.Add(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Finish(context.Background(), priv, bundle.WithImages([]manifest.Entry{im}))
	if err != nil {
		t.Fatal(err)
	}
	if got := readStream(t, res.Files, trusted); len(got) != 3 || got[0] != payloads[0].Path {
		t.Errorf("read %v, want the pack first", got)
	}
	if e := res.Manifest.Entries[0]; e.SHA256 != im.SHA256 {
		t.Errorf("the pack's sha256 is %s, want the whole tgz's %s (it holds every member)", e.SHA256, im.SHA256)
	}

	liar := sha([]byte("not the files run"))
	_, payloads = packFixture([]string{names[0], liar, names[2]}, bodies)
	base := filepath.Join(dir, "bad")
	s, err = bundle.NewStream(base, 0, bundle.WithCreated(bundletest.Created))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Add(context.Background(), payloads[0])
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Member != liar || !strings.Contains(err.Error(), "member 1 ("+liar+")") {
		t.Fatalf("Add = %v, want a failure naming member 1 (%s)", err, liar)
	}
	if left, _ := filepath.Glob(base + "*"); len(left) > 0 {
		t.Errorf("a failed stream left %v", left)
	}
	if _, err := os.Stat(base + ".tar"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.tar: %v", base, err)
	}
}

// With the CRC-32C of each member as its maker computed them, the writer
// checks the members by CRC and, given the pack's sum too, takes it
// without hashing; a member whose bytes changed since fails, naming it.
func TestWriterChecksPackMembersByCRC(t *testing.T) {
	dir := t.TempDir()
	priv, trusted := slotKey(t, dir)
	bodies := [][]byte{[]byte("head run"), []byte("files run"), []byte("tail run")}
	names := []string{sha(bodies[0]), sha(bodies[1]), sha(bodies[2])}
	table := crc32.MakeTable(crc32.Castagnoli)
	crcs := []uint32{crc32.Checksum(bodies[0], table), crc32.Checksum(bodies[1], table), crc32.Checksum(bodies[2], table)}

	im, payloads := packFixture(names, bodies)
	payloads[0].MemberCRCs, payloads[0].SHA256 = crcs, im.SHA256
	res, err := bundle.Write(context.Background(), filepath.Join(dir, "good"), priv, payloads,
		bundle.WithImages([]manifest.Entry{im}), bundle.WithCreated(bundletest.Created))
	if err != nil {
		t.Fatal(err)
	}
	if got := readStream(t, res.Files, trusted); len(got) != 3 {
		t.Errorf("read %v, want 3 entries", got)
	}

	for _, tc := range []struct {
		name string
		sum  string // the pack's sum as given; "" to have it hashed
	}{{"sum given", im.SHA256}, {"sum hashed", ""}} {
		changed := [][]byte{bodies[0], []byte("files rum"), bodies[2]}
		_, payloads := packFixture(names, changed)
		payloads[0].MemberCRCs, payloads[0].SHA256 = crcs, tc.sum
		base := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		s, err := bundle.NewStream(base, 0, bundle.WithCreated(bundletest.Created))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Add(context.Background(), payloads[0])
		var ve *verify.Error
		if !errors.As(err, &ve) || ve.Member != names[1] || !strings.Contains(err.Error(), "member 1 ("+names[1]+") of it changed since it was written") {
			t.Errorf("%s: Add = %v, want a failure naming member 1 (%s)", tc.name, err, names[1])
		}
		if left, _ := filepath.Glob(base + "*"); len(left) > 0 {
			t.Errorf("%s: a failed stream left %v", tc.name, left)
		}
	}
}
