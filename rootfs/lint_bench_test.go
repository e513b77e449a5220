package rootfs

import (
	"archive/tar"
	"fmt"
	"testing"
)

// BenchmarkLintEntry is the lint's cost per entry written, to set against
// BenchmarkWriteSmallFiles' time per entry (its image has 15 000).
func BenchmarkLintEntry(b *testing.B) {
	hdrs := make([]*tar.Header, 1000)
	for i := range hdrs {
		hdrs[i] = &tar.Header{Name: fmt.Sprintf("usr/lib/file-%d", i), Typeflag: tar.TypeReg, Size: 200, Mode: 0o644}
	}
	b.ReportAllocs()
	for b.Loop() {
		l := newLinter()
		for _, h := range hdrs {
			l.see(h, nil)
		}
		l.finish("")
	}
}
