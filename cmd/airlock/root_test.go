package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
