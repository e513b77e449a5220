package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/verify"
)

// version is set at build time (make build).
var version = "dev"

// Exit codes, documented in the root command's help.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitVerify      = 3
	exitInterrupted = 130
)

const exitHelp = `Exit codes:
  0    success
  1    error
  2    usage error (bad flags or arguments)
  3    verification failed (signature, checksum, or bucket drift)
  130  interrupted`

type streams struct {
	in       io.Reader
	out, err io.Writer
}

// usageError marks errors in how airlock was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// hintError carries advice printed after the error.
type hintError struct {
	err  error
	hint string
}

func (h hintError) Error() string { return h.err.Error() }
func (h hintError) Unwrap() error { return h.err }

func withHint(err error, hint string) error { return hintError{err, hint} }

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "airlock",
		Short: "Carry container images across an air gap for Concourse",
		Long: `airlock carries container images across an air gap.

On the connected side, export pulls images, flattens each into a Concourse
rootfs tgz and writes one signed bundle. On the disconnected side, verify and
inspect check it, import loads it into an S3 bucket, and audit proves later
that the bucket still matches what was signed.

` + exitHelp,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetIn(s.in)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newKeygenCmd(s),
		newVerifyCmd(s),
		newInspectCmd(s),
		newExportCmd(s),
		newImportCmd(s),
		newAuditCmd(s),
	)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs makes argument-count errors usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args == nil {
		return
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func run(ctx context.Context, args []string, s streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil {
		report(s.err, err, code)
	}
	return code
}

func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case verify.IsFailure(err) || errors.As(err, new(*provenance.Error)):
		return exitVerify
	case errors.As(err, new(usageError)) || strings.HasPrefix(err.Error(), "unknown command"):
		return exitUsage
	}
	return exitError
}

func report(w io.Writer, err error, code int) {
	if code == exitInterrupted {
		fmt.Fprintln(w, "airlock: interrupted; nothing half-written was left behind")
		return
	}
	fmt.Fprintf(w, "airlock: error: %v\n", err)
	var h hintError
	switch {
	case errors.As(err, &h):
		fmt.Fprintf(w, "airlock: hint: %s\n", h.hint)
	case code == exitUsage:
		fmt.Fprintln(w, "airlock: hint: see 'airlock --help'")
	case errors.As(err, new(*provenance.Error)):
		fmt.Fprintln(w, "airlock: hint: do not carry this image across; if the publisher signs with another key, name it with verify=KEY.pub on the image's line or --verify-key")
	case code == exitVerify && strings.Contains(err.Error(), "does not match any trusted key"):
		fmt.Fprintln(w, "airlock: hint: check that --pub names the key that signed this bundle (airlock inspect shows the signer)")
	}
}

// isTerminal tells whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
