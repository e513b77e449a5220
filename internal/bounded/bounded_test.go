package bounded

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countingReader counts the bytes read from an endless input.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

func TestReadAll(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		big  bool
	}{{"", "", false}, {"abc", "abc", false}, {"abcd", "abcd", false}, {"abcde", "", true}} {
		b, err := ReadAll(strings.NewReader(tt.in), 4, "in")
		var tl *TooLargeError
		switch {
		case tt.big && (!errors.As(err, &tl) || tl.Name != "in" || tl.Limit != 4 || err.Error() != "in is larger than 4 bytes"):
			t.Errorf("%q: error %v, want a *TooLargeError naming in", tt.in, err)
		case !tt.big && (err != nil || string(b) != tt.want):
			t.Errorf("%q: %q, %v", tt.in, b, err)
		}
	}
}

// An endless input is not read past the limit.
func TestReadAllStopsAtTheLimit(t *testing.T) {
	var r countingReader
	if _, err := ReadAll(io.LimitReader(&r, 1<<40), 1000, "endless"); !errors.As(err, new(*TooLargeError)) {
		t.Fatalf("error %v, want a *TooLargeError", err)
	}
	if r.n > 1<<16 {
		t.Errorf("read %d bytes of an endless input for a limit of 1000", r.n)
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile at its size: %q, %v", b, err)
	}
	if _, err := ReadFile(p, 4); !errors.As(err, new(*TooLargeError)) || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadFile over the limit: %v, want a *TooLargeError naming the file", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
