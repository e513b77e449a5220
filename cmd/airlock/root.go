package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/internal/stall"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/verify"
)

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
		newCacheCmd(s),
		newRepairCmd(s),
		newSignCmd(s),
		newVersionCmd(s),
		newInventoryCmd(s),
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
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(ctx, err)
	if err != nil {
		hint := hintFor(err, code, cmd)
		report(s.err, err, code, hint)
		if wantsJSON(cmd, args) {
			// Scripts read the failure from stdout too, never stderr.
			if werr := newEventEncoder(s.out).Encode(errorEvent{Event: "error", ExitCode: code, Error: err.Error(), Hint: hint}); werr != nil {
				fmt.Fprintf(s.err, "airlock: error: %v\n", werr)
			}
		}
	}
	return code
}

// wantsJSON tells whether the command line asks for --json. A failed run
// may have stopped parsing flags before --json (a bad value or an unknown
// flag earlier on the line, an unknown command), so the arguments are
// scanned as pflag reads them: up to "--", skipping the values of the
// flags cmd knows to take one.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if f := cmd.Flags().Lookup("json"); f != nil && f.Changed {
		return f.Value.String() == "true"
	}
	asked := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		var f *pflag.Flag
		switch {
		case a == "--":
			return asked
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if name == "json" {
				b, err := strconv.ParseBool(value)
				asked = !hasValue || err == nil && b
				continue
			}
			if hasValue {
				continue
			}
			f = cmd.Flags().Lookup(name)
		case strings.HasPrefix(a, "-") && len(a) == 2:
			f = cmd.Flags().ShorthandLookup(a[1:])
		}
		if f != nil && f.NoOptDefVal == "" {
			i++ // the flag's value
		}
	}
	return asked
}

func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return exitInterrupted
	case verify.IsFailure(err) || errors.As(err, new(*audit.DriftError)) || errors.As(err, new(*provenance.Error)),
		errors.As(err, new(*freshness.Error)) || errors.As(err, new(*freshness.StateError)) || errors.As(err, new(*freshness.TamperedError)):
		return exitVerify
	case errors.As(err, new(usageError)) || strings.HasPrefix(err.Error(), "unknown command"),
		errors.As(err, new(*bundle.TooManyPartsError)), // --part-size and --parity do not fit the bundle
		errors.As(err, new(*bundle.HeadTooLargeError)): // too many images for one bundle
		return exitUsage
	}
	return exitError
}

func report(w io.Writer, err error, code int, hint string) {
	var left *bucket.LeftBehindError
	if code == exitInterrupted {
		if errors.As(err, &left) {
			// Only true when every clean-up worked.
			fmt.Fprintf(w, "airlock: interrupted; %v\n", left)
			fmt.Fprintln(w, "airlock: hint: run the import again: it aborts incomplete uploads under the bundle's keys")
			return
		}
		fmt.Fprintln(w, "airlock: interrupted; nothing half-written was left behind")
		return
	}
	fmt.Fprintf(w, "airlock: error: %v\n", err)
	if hint != "" {
		fmt.Fprintf(w, "airlock: hint: %s\n", hint)
	}
}

// hintFor is the advice printed after err, or "".
func hintFor(err error, code int, cmd *cobra.Command) string {
	var h hintError
	switch {
	case code == exitInterrupted:
		return ""
	case errors.As(err, &h):
		return h.hint
	case libraryHint(err) != "":
		return libraryHint(err)
	case code == exitUsage:
		path := "airlock"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		return fmt.Sprintf("see '%s --help'", path)
	case errors.As(err, new(*stall.Error)):
		return "the server accepted the request and then sent nothing; check it and the network path to it, or raise --stall-timeout for a slow link"
	case errors.Is(err, verify.ErrUntrustedSignature):
		return "pass --pub with the public key whose id the error names; a key's id is what airlock keygen printed, or " +
			"the first 16 digits of 'openssl pkey -pubin -in KEY.pub -outform DER | sha256sum'"
	case errors.As(err, new(*manifest.FormatError)):
		return "this airlock (" + version + ") is older than the bundle: use the airlock that wrote it, or a newer one; " +
			"a bundle exported with --carry-airlock holds it under airlock/VERSION/, checked by the bundle's SHA256SUMS (docs/format.md section 14)"
	case errors.As(err, new(*provenance.Error)):
		return "do not carry this image across; if the publisher signs with another key, name it with verify=KEY.pub on the image's line or --verify-key; for keyless signatures, check --trusted-root and the identity (identity= and issuer= on the line, or --certificate-identity-regexp and --certificate-oidc-issuer)"
	}
	return ""
}

// libraryHint advises on the typed errors of the library packages.
func libraryHint(err error) string {
	var (
		pe *source.PullError
		ee *bundle.ExistsError
		te *bundle.TooManyPartsError
		he *bundle.HeadTooLargeError
		se *export.SpaceError
	)
	switch {
	case errors.As(err, &se):
		return "free some space or choose another folder (-o NAME, --cache-dir DIR); 'airlock cache prune' shrinks the staging cache"
	case errors.As(err, &ee) && ee.Appeared:
		return "two exports wrote the same name; the other one's bundle was left alone: choose another -o NAME"
	case errors.As(err, &ee):
		return "remove it or choose another -o NAME"
	case errors.As(err, &te) && te.Parity > 0:
		return "choose a larger --part-size or fewer --parity parts"
	case errors.As(err, &te):
		return "choose a larger --part-size"
	case errors.As(err, &he):
		return fmt.Sprintf("export the images in several bundles (%d images now); the staging cache keeps their conversions", he.Images)
	case !errors.As(err, &pe):
		return ""
	}
	switch pe.Cause {
	case source.PullUntrustedTLS:
		return "trust the registry's CA, or pass --insecure for a self-signed registry"
	case source.PullPlainHTTP:
		return "pass --insecure for a plain-HTTP registry"
	case source.PullUnauthorized:
		return fmt.Sprintf("log in with \"docker login %s\" or check your credentials", pe.Registry)
	case source.PullDenied:
		return "the credentials in use may not pull this repository"
	case source.PullNotFound:
		return "check the name and tag"
	case source.PullRateLimited:
		return "retry later, or log in to raise the limit"
	case source.PullServerFailed:
		return "retry later"
	case source.PullUnreachable:
		return "check the registry address and the network"
	}
	return ""
}

// isTerminal tells whether w is an interactive terminal (a character
// device such as /dev/null is not).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
