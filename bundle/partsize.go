package bundle

import (
	"slices"
	"strings"
)

// Part size presets for common transfer media.
var partPresets = map[string]int64{
	"fat32": 4<<30 - 1,      // largest file on FAT32
	"dvd":   4_700_000_000,  // single-layer DVD
	"bd25":  25_025_314_816, // single-layer Blu-ray
}

// MinPartSize is the smallest part size accepted: one tar block.
const MinPartSize = blockSize

// PartSizePreset is the part size of a medium's preset name (fat32, dvd,
// bd25; any case).
func PartSizePreset(name string) (int64, bool) {
	n, ok := partPresets[strings.ToLower(strings.TrimSpace(name))]
	return n, ok
}

// PartSizePresets lists the preset names, comma-separated.
func PartSizePresets() string {
	names := make([]string, 0, len(partPresets))
	for n := range partPresets {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
