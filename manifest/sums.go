package manifest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/internal/hexdigits"
)

// MaxSumsSize bounds the SHA256SUMS file a reader accepts.
const MaxSumsSize = 16 << 20

// Sum is one line of SHA256SUMS.
type Sum struct {
	Name   string
	SHA256 string // lowercase hex
}

// FormatSums renders sums in the coreutils format `sha256sum -c` reads:
// "HEX  NAME\n" per entry, in the given order.
func FormatSums(sums []Sum) []byte {
	var b bytes.Buffer
	for _, s := range sums {
		fmt.Fprintf(&b, "%s  %s\n", s.SHA256, s.Name)
	}
	return b.Bytes()
}

// ParseSums parses a SHA256SUMS file strictly: every line is
// "<64 lowercase hex digits><two spaces><name>\n", names are valid entry
// names and unique.
func ParseSums(data []byte) ([]Sum, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty", SumsName)
	}
	if len(data) > MaxSumsSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", SumsName, MaxSumsSize)
	}
	if data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%s does not end with a newline", SumsName)
	}
	lines := strings.Split(string(data[:len(data)-1]), "\n")
	sums := make([]Sum, 0, len(lines))
	seen := make(map[string]bool, len(lines))
	for i, line := range lines {
		s, err := parseSumLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", SumsName, i+1, err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("%s line %d: %s is listed twice", SumsName, i+1, s.Name)
		}
		seen[s.Name] = true
		sums = append(sums, s)
	}
	return sums, nil
}

func parseSumLine(line string) (Sum, error) {
	const hexLen = 64
	if len(line) < hexLen+3 || line[hexLen:hexLen+2] != "  " {
		return Sum{}, fmt.Errorf("not of the form %q", "HEX  NAME")
	}
	h := line[:hexLen]
	if !IsSHA256Hex(h) {
		return Sum{}, fmt.Errorf("%q is not a lowercase hex sha-256", h)
	}
	name := line[hexLen+2:]
	if err := CheckName(name); err != nil {
		return Sum{}, err
	}
	return Sum{Name: name, SHA256: h}, nil
}

// IsSHA256Hex reports whether s is 64 lowercase hex digits.
func IsSHA256Hex(s string) bool {
	return hexdigits.IsLower(s, 64)
}
