package testtool

import (
	"errors"
	"fmt"
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

func TestCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "TRUE": true, "": false, "false": false, "yes": false} {
		t.Setenv("CI", v)
		if got := CI(); got != want {
			t.Errorf("CI=%q: CI() = %v, want %v", v, got, want)
		}
	}
}

func TestSkipOrFail(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		var failed, skipped bool
		ft := &recorder{fail: func() { failed = true }, skip: func() { skipped = true }}
		func() {
			defer func() { _ = recover() }()
			SkipOrFail(ft, "%s is missing", "tool")
		}()
		if ci == "true" && (!failed || skipped || ft.msg != "CI=true but tool is missing") {
			t.Errorf("under CI: failed %v, skipped %v, %q; want a failure", failed, skipped, ft.msg)
		}
		if ci == "" && (failed || !skipped || ft.msg != "tool is missing") {
			t.Errorf("outside CI: failed %v, skipped %v, %q; want a skip", failed, skipped, ft.msg)
		}
	}
}

// recorder is a testing.TB that records how a helper stopped it.
type recorder struct {
	testing.TB
	fail, skip func()
	msg        string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	r.fail()
	panic("stop")
}
func (r *recorder) Skip(args ...any) {
	r.msg = fmt.Sprint(args...)
	r.skip()
	panic("stop")
}
