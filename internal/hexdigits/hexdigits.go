// Package hexdigits is airlock's one check of hex strings: SHA-256 sums,
// key ids and bundle ids are lowercase hex digits of a fixed length.
package hexdigits

// IsLower reports whether s is exactly n lowercase hexadecimal digits.
func IsLower(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
