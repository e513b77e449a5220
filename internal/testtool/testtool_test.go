package testtool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("TESTTOOL_BIN", exe)
	if p, err := Find("no-such-tool", "TESTTOOL_BIN"); err != nil || p != exe {
		t.Errorf("with $TESTTOOL_BIN set: %q, %v; want %s", p, err, exe)
	}
	t.Setenv("TESTTOOL_BIN", plain)
	if _, err := Find("tool", "TESTTOOL_BIN"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a non-executable $TESTTOOL_BIN: %v, want ErrNotFound", err)
	}
	t.Setenv("TESTTOOL_BIN", "")
	if p, err := Find("tool", "TESTTOOL_BIN"); err != nil || p != exe {
		t.Errorf("on PATH: %q, %v; want %s", p, err, exe)
	}
	if _, err := Find("no-such-tool", "TESTTOOL_BIN"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v, want ErrNotFound", err)
	}
}
