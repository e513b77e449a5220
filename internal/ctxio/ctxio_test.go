package ctxio

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestReaderStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Reader(ctx, strings.NewReader("hello"))
	b := make([]byte, 2)
	if n, err := r.Read(b); n != 2 || err != nil {
		t.Fatalf("read before cancel: %d, %v", n, err)
	}
	cancel()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v, want context.Canceled", err)
	}
}

func TestProgressWriterReportsIncrementsOfAtLeastStep(t *testing.T) {
	var buf strings.Builder
	var got []int64
	p := &ProgressWriter{W: &buf, Report: func(n int64) { got = append(got, n) }, Step: 4}
	for _, s := range []string{"ab", "cd", "e", "fghij", "k"} {
		if _, err := p.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	p.Flush()
	p.Flush()
	if buf.String() != "abcdefghijk" || p.N != 11 {
		t.Fatalf("wrote %q, counted %d", buf.String(), p.N)
	}
	if want := []int64{4, 6, 1}; !slices.Equal(got, want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

func TestProgressWriterWithoutStepReportsEveryWrite(t *testing.T) {
	var got []int64
	p := &ProgressWriter{W: io.Discard, Report: func(n int64) { got = append(got, n) }}
	p.Write([]byte("ab"))
	p.Write(nil)
	p.Write([]byte("c"))
	if want := []int64{2, 1}; !slices.Equal(got, want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

func TestProgressWriterWithoutReportOnlyCounts(t *testing.T) {
	p := &ProgressWriter{W: io.Discard}
	p.Write([]byte("abc"))
	p.Flush()
	if p.N != 3 {
		t.Fatalf("counted %d, want 3", p.N)
	}
}
