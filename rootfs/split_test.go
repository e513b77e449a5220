package rootfs

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// block is a hand-made tar header: archive/tar writes neither a PAX size
// record below 8 GiB nor base-256 sizes in PAX format, but other writers
// may, and the splitter must follow them.
func block(name string, typ byte, sizeField []byte) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[124:136], sizeField)
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	copy(b[148:156], "        ")
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func octal(n int64) []byte { return fmt.Appendf(nil, "%011o\x00", n) }

func pad(b []byte) []byte { return append(b, make([]byte, int(padded(int64(len(b))))-len(b))...) }

func TestSplitterFollowsPAXAndBase256Sizes(t *testing.T) {
	data := bytes.Repeat([]byte("d"), 600)
	rec := []byte("12 size=600\n")
	base256 := make([]byte, 12)
	base256[0], base256[10], base256[11] = 0x80, 600>>8, 600&0xff
	entries := [][]byte{
		append(block("metadata.json", '0', octal(2)), pad([]byte("{}"))...),
		block("rootfs/", '5', octal(0)),
		// PAX size record over a size field of 0
		bytes.Join([][]byte{block("pax", 'x', octal(int64(len(rec)))), pad(rec), block("rootfs/a", '0', octal(0)), pad(data)}, nil),
		append(block("rootfs/b", '0', base256), pad(data)...),
		append(block("rootfs/c", '2', octal(999)), []byte{}...), // a symlink's size is no data
	}
	stream := append(bytes.Join(entries, nil), make([]byte, 1024)...)
	for _, step := range []int{1, 7, 512, len(stream)} {
		var runs [][]byte
		var kinds []MemberKind
		// MIN 1 and S 1: every entry passes the cut test and is a run of its own.
		s := newSplitter(1, 1, 1<<20, 1<<20, func(int64) []byte { return nil }, func(run []byte, k MemberKind, _ []segment) error {
			runs, kinds = append(runs, run), append(kinds, k)
			return nil
		})
		for p := stream; len(p) > 0; p = p[min(step, len(p)):] {
			if _, err := s.Write(p[:min(step, len(p))]); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if err := s.finish(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		want := append(append([][]byte{}, entries...), make([]byte, 1024))
		if !reflect.DeepEqual(runs, want) {
			t.Errorf("step %d: runs of %v bytes, want one per entry", step, lens(runs))
		}
		if wantKinds := []MemberKind{MemberRun, MemberHead, MemberRun, MemberRun, MemberRun, MemberTail}; !reflect.DeepEqual(kinds, wantKinds) {
			t.Errorf("step %d: kinds %v, want %v", step, kinds, wantKinds)
		}
	}
}

func TestSplitterRefusesBrokenStreams(t *testing.T) {
	good := block("a", '0', octal(0))
	bad := append([]byte{}, good...)
	bad[0] = 'b' // checksum no longer matches
	for name, stream := range map[string][]byte{
		"bad checksum": bad,
		"no end":       good,
		"short end":    append(append([]byte{}, good...), make([]byte, 100)...),
	} {
		s := newSplitter(1, 1, 1<<20, 1<<20, func(int64) []byte { return nil }, func([]byte, MemberKind, []segment) error { return nil })
		_, err := s.Write(stream)
		if err == nil {
			err = s.finish()
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func lens(bs [][]byte) []int {
	var n []int
	for _, b := range bs {
		n = append(n, len(b))
	}
	return n
}
