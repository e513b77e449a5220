package export

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckMembers(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	ok := []cachedMember{mem(a, 0, 10), mem(b, 10, 5)}
	if err := checkMembers(ok, 100, 15); err != nil {
		t.Fatalf("members tiling the file: %v", err)
	}
	for name, c := range map[string]struct {
		ms        []cachedMember
		tar, size int64
		want      string
	}{
		"none":       {nil, 100, 15, "no member list"},
		"no tar":     {ok, 0, 15, "tar size"},
		"gap":        {[]cachedMember{mem(a, 0, 10), mem(b, 11, 4)}, 100, 15, "member 1"},
		"overlap":    {[]cachedMember{mem(a, 0, 10), mem(b, 9, 6)}, 100, 15, "member 1"},
		"not from 0": {[]cachedMember{mem(a, 1, 14)}, 100, 15, "member 0"},
		"short":      {ok, 100, 16, "cover 15 bytes of the 16-byte file"},
		"long":       {ok, 100, 14, "member 1"},
		"empty":      {[]cachedMember{mem(a, 0, 0), mem(b, 0, 15)}, 100, 15, "member 0"},
		"bad raw":    {[]cachedMember{{Name: a, Size: 15, Raw: "xyz"}}, 100, 15, "run sha256"},
		"bad name":   {[]cachedMember{mem("xyz", 0, 15)}, 100, 15, "64 lowercase hex"},
	} {
		err := checkMembers(c.ms, c.tar, c.size)
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
	s.add(path, []cachedMember{{Name: hex.EncodeToString(name[:]), Offset: 4, Size: int64(len(member)), Raw: hex.EncodeToString(raw[:])}})
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
