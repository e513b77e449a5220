package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/verify"
)

func TestExitCodes(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", bg, nil, exitOK},
		{"plain error", bg, errors.New("boom"), exitError},
		{"usage", bg, usagef("bad flag"), exitUsage},
		{"wrapped verification failure", bg, fmt.Errorf("importing: %w", &verify.Error{Reason: "x"}), exitVerify},
		{"interrupted", cancelled, fmt.Errorf("converting: %w", context.Canceled), exitInterrupted},
		{"interrupted while verifying", cancelled, &verify.Error{Reason: "x"}, exitInterrupted},
		{"bucket drift", bg, fmt.Errorf("auditing: %w", &audit.DriftError{Bucket: "b", Missing: 1}), exitVerify},
	}
	for _, tt := range tests {
		if got := exitCode(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: exit code %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestInterruptedRunSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"export", "--dry-run", "127.0.0.1:1/x:1.0"}, streams{in: strings.NewReader(""), out: &out, err: &errOut})
	if code != exitInterrupted {
		t.Fatalf("exit code %d, want %d (stderr %q)", code, exitInterrupted, errOut.String())
	}
	if !strings.Contains(errOut.String(), "airlock: interrupted") || out.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

// An interrupted import that could not abort an upload says so instead of
// claiming nothing was left behind.
func TestInterruptedReportIsTruthful(t *testing.T) {
	left := &bucket.LeftBehindError{Key: "app/app-1.tgz", UploadID: "u1", Err: errors.New("endpoint unreachable")}
	for _, tc := range []struct {
		err       error
		want, not string
	}{
		{context.Canceled, "nothing half-written was left behind", "left behind (not visible"},
		{errors.Join(context.Canceled, left), "incomplete upload u1 of app/app-1.tgz left behind", "nothing half-written"},
	} {
		var w bytes.Buffer
		report(&w, tc.err, exitInterrupted, "")
		if !strings.Contains(w.String(), tc.want) || strings.Contains(w.String(), tc.not) {
			t.Errorf("report(%v) = %q, want %q and not %q", tc.err, w.String(), tc.want, tc.not)
		}
	}
}

func TestWriteFileAtomicLeavesDevicesAlone(t *testing.T) {
	err := writeFileAtomic(os.DevNull, func(f *os.File) error { _, err := f.WriteString("x"); return err })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	boom := errors.New("boom")
	if err := writeFileAtomic(p, func(f *os.File) error { f.WriteString("half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a failed write left %v", ents)
	}
}

// /dev/null is a character device, not a terminal: no progress bars there.
func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("isTerminal(/dev/null) = true")
	}
}
