// Package bounded reads small inputs whole (keys, receipts, records, part
// indexes) without ever reading more than a limit, however large the input
// is or grows while it is read.
package bounded

import (
	"fmt"
	"io"
	"os"
)

// TooLargeError says an input holds more than Limit bytes.
type TooLargeError struct {
	Name  string // the file, object or key read
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes", e.Name, e.Limit)
}

// ReadAll reads r to its end. It reads at most limit+1 bytes, and fails
// with a *TooLargeError naming name when r holds more than limit; a read
// error is returned wrapped with name.
func ReadAll(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Name: name, Limit: limit}
	}
	return b, nil
}

// ReadFile reads the file at path as ReadAll reads a reader.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, limit, path)
}
