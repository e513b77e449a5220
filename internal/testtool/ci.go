package testtool

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// CI reports whether the tests run under CI ($CI is true, 1, ...), where a
// missing tool or privilege fails a test instead of skipping it.
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// SkipOrFail stops t for want of what the message names: it skips t, or
// fails it under CI.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("CI=true but %s", msg)
	}
	t.Skip(msg)
}
