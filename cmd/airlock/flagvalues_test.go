package main

import (
	"testing"
	"time"
)

// --part-size and --max-size read sizes with one parser: the same units,
// and the media presets, for both.
func TestSizeFlagsShareOneParser(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"fat32", 4<<30 - 1}, {"DVD", 4_700_000_000}, {"bd25", 25_025_314_816},
		{"2GiB", 2 << 30}, {"700MB", 700_000_000}, {"4.5G", 4_500_000_000}, {"512", 512},
		{"1 MiB", 1 << 20}, {"20GB", 20_000_000_000}, {"64k", 64_000},
	} {
		var p partSizeValue
		var m byteSizeValue
		if err := p.Set(tc.in); err != nil || uint64(p.bytes) != tc.want {
			t.Errorf("--part-size %s = %d, %v; want %d", tc.in, p.bytes, err, tc.want)
		}
		if err := m.Set(tc.in); err != nil || m.bytes != tc.want {
			t.Errorf("--max-size %s = %d, %v; want %d", tc.in, m.bytes, err, tc.want)
		}
	}
	for _, bad := range []string{"bogus", "12parsecs", "100", "0", "-5GB"} {
		var p partSizeValue
		if err := p.Set(bad); err == nil {
			t.Errorf("--part-size %s accepted as %d", bad, p.bytes)
		}
	}
	var p partSizeValue
	if err := p.Set(""); err != nil || p.bytes != 0 {
		t.Errorf(`--part-size "" = %d, %v; want 0 (no split)`, p.bytes, err)
	}
}

func TestValidForValue(t *testing.T) {
	good := map[string]time.Duration{"30d": 30 * 24 * time.Hour, "36h": 36 * time.Hour, "1d12h": 36 * time.Hour, "3650d": 3650 * 24 * time.Hour}
	for in, want := range good {
		var v validForValue
		if err := v.Set(in); err != nil || v.d != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, v.d, err, want)
		}
	}
	for _, in := range []string{"", "0s", "soon", "-1d", "d", "3651d", "99999999999999d", "1d-48h", "1dx"} {
		var v validForValue
		if err := v.Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %v", in, v.d)
		}
	}
}
