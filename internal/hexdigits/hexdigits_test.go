package hexdigits

import (
	"strings"
	"testing"
)

func TestIsLower(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want bool
	}{
		{strings.Repeat("0123456789abcdef", 4), 64, true},
		{strings.Repeat("0123456789ABCDEF", 4), 64, false},
		{strings.Repeat("a", 63), 64, false},
		{strings.Repeat("a", 65), 64, false},
		{"0123456789abcdeg", 16, false},
		{"0123456789abcde ", 16, false},
		{"", 0, true},
		{"é0123456789abcd", 16, false},
	} {
		if got := IsLower(tt.s, tt.n); got != tt.want {
			t.Errorf("IsLower(%q, %d) = %v, want %v", tt.s, tt.n, got, tt.want)
		}
	}
}
