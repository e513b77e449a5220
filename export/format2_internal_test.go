package export

import (
	"strings"
	"testing"
)

func TestCheckMembers(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	ok := []cachedMember{{a, 0, 10}, {b, 10, 5}}
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
		"gap":        {[]cachedMember{{a, 0, 10}, {b, 11, 4}}, 100, 15, "member 1"},
		"overlap":    {[]cachedMember{{a, 0, 10}, {b, 9, 6}}, 100, 15, "member 1"},
		"not from 0": {[]cachedMember{{a, 1, 14}}, 100, 15, "member 0"},
		"short":      {ok, 100, 16, "cover 15 bytes of the 16-byte file"},
		"long":       {ok, 100, 14, "member 1"},
		"empty":      {[]cachedMember{{a, 0, 0}, {b, 0, 15}}, 100, 15, "member 0"},
		"bad name":   {[]cachedMember{{"xyz", 0, 15}}, 100, 15, "64 lowercase hex"},
	} {
		err := checkMembers(c.ms, c.tar, c.size)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}
