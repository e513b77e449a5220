package export

import (
	"testing"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/rootfs"
)

// The default compression is what exports did before the choice existed:
// the same rootfs settings, so the same bytes and staging-cache keys.
func TestDefaultCompressionKeepsOutputSettings(t *testing.T) {
	before := rootfs.OutputSettings()
	for _, opts := range [][]Option{nil, {WithCompression(manifest.CompressionDefault)}} {
		if got := rootfs.OutputSettings(makeOptions(opts).rootfs...); got != before {
			t.Errorf("default compression: rootfs settings %q, want %q", got, before)
		}
	}
	seen := map[string]manifest.Compression{}
	for _, c := range manifest.Compressions {
		got := rootfs.OutputSettings(makeOptions([]Option{WithCompression(c)}).rootfs...)
		if other, ok := seen[got]; ok {
			t.Errorf("compressions %s and %s share rootfs settings %q (and staging-cache keys)", other, c, got)
		}
		seen[got] = c
	}
}
