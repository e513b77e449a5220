//go:build unix

package keys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO named *.pub used to block LoadTrusted in open(2) for ever, deaf
// to signals. In a folder it is skipped with a warning; given directly, or
// as the private key, it is an error naming it. Neither may block: this
// test hangs (until go test's -timeout) if they do.
func TestFIFOIsNeverRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(filepath.Join(dir, "good")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "good.key")); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.pub")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}

	got, warnings, err := LoadTrusted([]string{dir})
	if err != nil || len(got) != 1 {
		t.Fatalf("LoadTrusted(dir) = %d keys, %v; want the one regular key", len(got), err)
	}
	if len(warnings) != 1 || warnings[0].Path != fifo || !strings.Contains(warnings[0].Reason, "named pipe") {
		t.Errorf("warnings = %v, want one naming %s as a named pipe", warnings, fifo)
	}

	var nr *NotRegularError
	if _, _, err := LoadTrusted([]string{fifo}); !errors.As(err, &nr) || nr.Path != fifo || !strings.Contains(err.Error(), fifo) {
		t.Errorf("LoadTrusted(fifo) err = %v, want a NotRegularError naming it", err)
	}
	if _, err := LoadPrivate(fifo); !errors.As(err, &nr) {
		t.Errorf("LoadPrivate(fifo) err = %v, want a NotRegularError", err)
	}

	only := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(only, "a.pub"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadTrusted([]string{only}); err == nil || !strings.Contains(err.Error(), "no *.pub file") {
		t.Errorf("folder with only a FIFO: err = %v", err)
	}
}
