package bundle

import (
	"fmt"
	"strconv"
	"strings"
)

// Part size presets for common transfer media.
var partPresets = map[string]int64{
	"fat32": 4<<30 - 1,      // largest file on FAT32
	"dvd":   4_700_000_000,  // single-layer DVD
	"bd25":  25_025_314_816, // single-layer Blu-ray
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"b", 1},
}

// MinPartSize is the smallest part size accepted.
const MinPartSize = 512

// ParsePartSize reads a part size: a preset (fat32, dvd, bd25), a number of
// bytes, or a number with a unit (2GiB, 700MB, 4.5G). "" means no split.
func ParsePartSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	if n, ok := partPresets[s]; ok {
		return n, nil
	}
	num, mult := s, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("part size %q: want a preset (fat32, dvd, bd25) or a size like 2GiB or 700MB", s)
	}
	n := int64(f * float64(mult))
	if n < MinPartSize {
		return 0, fmt.Errorf("part size %q is below the minimum of %d bytes", s, MinPartSize)
	}
	return n, nil
}
