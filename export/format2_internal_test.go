package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/airlockhq/airlock/bundle"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/stage"
)

func TestCheckStagedMembers(t *testing.T) {
	a, b, c := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	lender := strings.Repeat("1", 64) + "-" + strings.Repeat("2", 64) + ".tgz"
	entry := func(size int64, refs ...string) stage.Entry {
		return stage.Entry{Path: "/cache/own.tgz", Size: size, Refs: refs}
	}
	ok := []cachedMember{mem(a, 0, 10), mem(b, 10, 5)}
	if n, err := checkStagedMembers(entry(15), cacheMeta{Members: ok, TarSize: 100}); err != nil || n != 15 {
		t.Fatalf("members tiling the file: %d, %v", n, err)
	}
	lent := append(slices.Clone(ok), cachedMember{Name: c, Offset: 7, Size: 20, File: lender})
	tgz := strings.Repeat("d", 64)
	if n, err := checkStagedMembers(entry(15, lender), cacheMeta{Members: lent, TarSize: 100, TGZSize: 35, TGZSHA256: tgz}); err != nil || n != 35 {
		t.Fatalf("members tiling the file and one borrowed: %d, %v", n, err)
	}
	for name, c := range map[string]struct {
		e    stage.Entry
		m    cacheMeta
		want string
	}{
		"none":                      {entry(15), cacheMeta{TarSize: 100}, "no member list"},
		"no tar":                    {entry(15), cacheMeta{Members: ok}, "tar size"},
		"gap":                       {entry(15), cacheMeta{Members: []cachedMember{mem(a, 0, 10), mem(b, 11, 4)}, TarSize: 100}, "member 1"},
		"overlap":                   {entry(15), cacheMeta{Members: []cachedMember{mem(a, 0, 10), mem(b, 9, 6)}, TarSize: 100}, "member 1"},
		"not from 0":                {entry(15), cacheMeta{Members: []cachedMember{mem(a, 1, 14)}, TarSize: 100}, "member 0"},
		"short":                     {entry(16), cacheMeta{Members: ok, TarSize: 100}, "cover 15 bytes of the 16-byte file"},
		"long":                      {entry(14), cacheMeta{Members: ok, TarSize: 100}, "member 1"},
		"empty":                     {entry(15), cacheMeta{Members: []cachedMember{mem(a, 0, 0), mem(b, 0, 15)}, TarSize: 100}, "member 0"},
		"bad raw":                   {entry(15), cacheMeta{Members: []cachedMember{{Name: a, Size: 15, Raw: "xyz"}}, TarSize: 100}, "run sha256"},
		"bad name":                  {entry(15), cacheMeta{Members: []cachedMember{mem("xyz", 0, 15)}, TarSize: 100}, "64 lowercase hex"},
		"unreferred file":           {entry(15), cacheMeta{Members: lent, TarSize: 100, TGZSize: 35, TGZSHA256: tgz}, "not a staged file"},
		"file outside":              {entry(15, "../x.tgz"), cacheMeta{Members: []cachedMember{mem(a, 0, 15), {Name: c, Size: 3, File: "../x.tgz"}}, TarSize: 100, TGZSize: 18, TGZSHA256: tgz}, "not a staged file"},
		"no tgz sum":                {entry(15, lender), cacheMeta{Members: lent, TarSize: 100, TGZSize: 35}, "tgz size"},
		"wrong tgz size":            {entry(15, lender), cacheMeta{Members: lent, TarSize: 100, TGZSize: 34, TGZSHA256: tgz}, "tgz size"},
		"tgz sum, nothing borrowed": {entry(15), cacheMeta{Members: ok, TarSize: 100, TGZSize: 15, TGZSHA256: tgz}, "holds every member"},
	} {
		_, err := checkStagedMembers(c.e, c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

func mem(name string, off, size int64) cachedMember {
	return cachedMember{Name: name, Offset: off, Size: size}
}

func TestMemberSourceChecksBytes(t *testing.T) {
	member := []byte("pretend these are the bytes of a gzip member")
	path := filepath.Join(t.TempDir(), "staged.tgz")
	if err := os.WriteFile(path, append([]byte("head"), member...), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := sha256.Sum256([]byte("the run"))
	name := sha256.Sum256(member)
	s := newMemberSource(5)
	s.add(staged{entry: stage.Entry{Path: path}, members: []cachedMember{{Name: hex.EncodeToString(name[:]), Offset: 4, Size: int64(len(member)), Raw: hex.EncodeToString(raw[:])}}})
	if b, got, ok := s.Member(raw, 5); !ok || string(b) != string(member) || got != name {
		t.Fatalf("Member = %q, %x, %v; want the member's bytes and name", b, got, ok)
	}
	if _, _, ok := s.Member(raw, 1); ok {
		t.Fatal("a member of level 5 is returned for level 1")
	}
	if _, _, ok := s.Member(sha256.Sum256([]byte("another run")), 5); ok {
		t.Fatal("a member is returned for an unknown run")
	}
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt([]byte{'P' ^ 1}, 4)
	f.Close()
	if b, _, ok := s.Member(raw, 5); ok {
		t.Fatalf("a damaged member is returned: %q", b)
	}
	os.Remove(path)
	if _, _, ok := s.Member(raw, 5); ok {
		t.Fatal("a member of a removed file is returned")
	}
	if n := s.reused.Load(); n != 1 {
		t.Fatalf("reused = %d, want 1", n)
	}
}

// A staged file that is gone when the bundle writer opens it is handled as
// a damaged one, unless this run wrote it.
func TestCorruptCachedMissingFile(t *testing.T) {
	dir := t.TempDir()
	lender := filepath.Join(dir, strings.Repeat("1", 64)+"-"+strings.Repeat("2", 64)+".tgz")
	name := strings.Repeat("a", 64)
	borrower := staged{entry: stage.Entry{Path: filepath.Join(dir, "own.tgz")}, cached: true,
		members: []cachedMember{{Name: name, Size: 5, File: filepath.Base(lender)}}}
	o := &options{format: 2}
	gone := fmt.Errorf("opening payload %s: %w", manifest.MemberPath(name), &fs.PathError{Op: "open", Path: lender, Err: fs.ErrNotExist})
	if got := corruptCached(gone, nil, []staged{borrower}, o); got != lender {
		t.Errorf("corruptCached = %q, want the missing file %s", got, lender)
	}
	owner := staged{entry: stage.Entry{Path: lender}}
	if got := corruptCached(gone, nil, []staged{borrower, owner}, o); got != "" {
		t.Errorf("corruptCached = %q for a file this run wrote, want none", got)
	}
	if !mayEvict(gone) || mayEvict(fmt.Errorf("writing: %w", fs.ErrPermission)) {
		t.Error("mayEvict does not tell a staged file gone from another failure")
	}
	other := fmt.Errorf("opening payload: %w", &fs.PathError{Op: "open", Path: filepath.Join(dir, "unrelated"), Err: fs.ErrNotExist})
	if got := corruptCached(other, nil, []staged{borrower}, o); got != "" {
		t.Errorf("corruptCached = %q for a file no image uses, want none", got)
	}
}

// The picker carries each distinct member once, except that an image
// whose members are new but for at most 1% of its bytes gets its whole
// tgz as its pack, repeating those few, and taking the tgz's sha256.
func TestPickerWholePacks(t *testing.T) {
	name := func(c byte) string { return strings.Repeat(string(c), 64) }
	head, tail, big1, big2, base := name('h'), name('t'), name('1'), name('2'), name('b')
	img := func(sum string, ms ...cachedMember) staged {
		s := staged{members: ms, sha256: sum, crcs: make([]uint32, len(ms))}
		for i := range ms {
			s.members[i].Offset = s.size
			s.size += ms[i].Size
			s.crcs[i] = uint32(i + 1)
		}
		return s
	}
	one := img(name('x'), mem(head, 0, 5), mem(big1, 0, 1000), mem(tail, 0, 5))
	two := img(name('y'), mem(head, 0, 5), mem(big2, 0, 1000), mem(tail, 0, 5))
	three := img(name('z'), mem(head, 0, 5), mem(base, 0, 100), mem(name('3'), 0, 900), mem(tail, 0, 5))
	p := newPicker(nil, nil)
	var got []bundle.Payload
	for i, s := range []staged{one, two, three} {
		pl, ok := p.pack(s, fmt.Sprintf("k/k-%d.tgz", i))
		if !ok {
			t.Fatalf("image %d: no pack", i)
		}
		got = append(got, pl)
	}
	for i, s := range []staged{one, two} {
		if got[i].SHA256 != s.sha256 || got[i].Size != s.size || len(got[i].Members) != 3 || len(got[i].MemberCRCs) != 3 {
			t.Errorf("pack %d: sha256 %q, %d bytes, %d members (%d CRCs): want its whole tgz, %s", i, got[i].SHA256, got[i].Size, len(got[i].Members), len(got[i].MemberCRCs), s.sha256)
		}
	}
	// 10 bytes of 1010 (~1%) carried by the first: whole. The third
	// shares 10 of 1010 too, but its base member is new: also whole.
	if got[2].SHA256 != three.sha256 {
		t.Errorf("third pack %q: want its whole tgz", got[2].SHA256)
	}

	// Sharing more than 1%: the pack holds only the new members, and is
	// hashed as written.
	four := img(name('w'), mem(head, 0, 5), mem(base, 0, 100), mem(name('4'), 0, 900), mem(tail, 0, 5))
	pl, ok := p.pack(four, "k/k-4.tgz")
	if !ok || pl.SHA256 != "" || !slices.Equal(pl.Members, []string{name('4')}) {
		t.Errorf("an image sharing 11%%: pack %v (sha256 %q), want only its new member, hashed as written", pl.Members, pl.SHA256)
	}

	// A held member met first in a whole image is carried; one already
	// in the have list keeps the image from being whole (a member is
	// never both carried and in have).
	held := map[string]manifest.Have{
		name('5'): {SHA256: name('5'), Key: "old/old-1.tgz", Length: 5},
		name('6'): {SHA256: name('6'), Key: "old/old-1.tgz", Length: 500},
	}
	q := newPicker(nil, held)
	if pl, _ := q.pack(img(name('a'), mem(name('5'), 0, 5), mem(name('7'), 0, 1000)), "a/a-1.tgz"); pl.SHA256 != name('a') || len(q.have) != 0 {
		t.Errorf("held 0.5%%: pack sha256 %q, have %v: want the whole tgz carried", pl.SHA256, q.have)
	}
	if pl, _ := q.pack(img(name('c'), mem(name('6'), 0, 500), mem(name('8'), 0, 1000)), "c/c-1.tgz"); pl.SHA256 != "" || len(q.have) != 1 {
		t.Errorf("held 33%%: pack sha256 %q, have %v: want the held member left out", pl.SHA256, q.have)
	}
	if pl, _ := q.pack(img(name('d'), mem(name('6'), 0, 500), mem(name('9'), 0, 100000)), "d/d-1.tgz"); pl.SHA256 != "" || slices.Contains(pl.Members, name('6')) {
		t.Errorf("a member in have, 0.5%% of the image: pack %v (sha256 %q), want it left out, not carried again", pl.Members, pl.SHA256)
	}
	packs := append([]manifest.Entry(nil), p.packs...)
	table := manifest.MemberTable(packs, nil)
	if n := strings.Count(strings.Join(table, " "), head); n != 3 {
		t.Errorf("the shared head is in the member table %d times, want 3 (the whole packs)", n)
	}
}
