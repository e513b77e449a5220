package manifest

import (
	"fmt"
	"slices"
	"strings"
)

// Compression names how hard an exporter compressed an image's rootfs tgz,
// a trade of export speed against size (docs/format.md section 5). Every
// gzip reader reads every level; the name is a record, not a way to read.
type Compression string

// The compressions a manifest may record. The empty Compression stands for
// a manifest without the field (written before it existed), which means
// CompressionDefault.
const (
	CompressionFast    Compression = "fast"    // gzip level 1 (BestSpeed)
	CompressionDefault Compression = "default" // the compressor's default level, as before the field existed
	CompressionBest    Compression = "best"    // gzip level 9 (BestCompression)
)

// Compressions lists the valid names, fastest first.
var Compressions = []Compression{CompressionFast, CompressionDefault, CompressionBest}

// CompressionNames is Compressions as "fast, default, best", for messages.
func CompressionNames() string {
	names := make([]string, len(Compressions))
	for i, c := range Compressions {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// ParseCompression returns the Compression named s, one of Compressions.
func ParseCompression(s string) (Compression, error) {
	c := Compression(s)
	if !slices.Contains(Compressions, c) {
		return "", fmt.Errorf("%s is not a compression airlock knows; want one of %s", quoteShort(s), CompressionNames())
	}
	return c, nil
}

// Check accepts the names in Compressions and the empty Compression (the
// field is absent).
func (c Compression) Check() error {
	if c == "" {
		return nil
	}
	_, err := ParseCompression(string(c))
	return err
}

// OrDefault returns c, or CompressionDefault for a manifest without the
// field.
func (c Compression) OrDefault() Compression {
	if c == "" {
		return CompressionDefault
	}
	return c
}

// quoteShort quotes s for a message, cut to a readable length: a hostile
// manifest may hold megabytes in one field.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		return fmt.Sprintf("%q... (%d bytes)", s[:limit], len(s))
	}
	return fmt.Sprintf("%q", s)
}
