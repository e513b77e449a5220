package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
