package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/verify"
)

// maxSignedFileSize bounds a file sign reads: pure Ed25519 signs the whole
// message, so it is read into memory. A checksum list is far smaller.
const maxSignedFileSize = 64 << 20

type signOptions struct {
	key string
}

func newSignCmd(s streams) *cobra.Command {
	var o signOptions
	c := &cobra.Command{
		Use:   "sign --key KEY.key FILE...",
		Short: "Sign files as bundles are signed (FILE.sig, checked by openssl)",
		Long: `Sign each FILE with an Ed25519 key from airlock keygen: FILE.sig is the
64-byte raw Ed25519 signature over the exact bytes of FILE, the form of a
bundle's SHA256SUMS.sig (docs/format.md, section 4), so that

  openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in FILE -sigfile FILE.sig

checks it with no airlock at hand. make dist signs its SHA256SUMS this way.
FILE.sig is written under a temporary name and renamed into place, replacing
an older signature. A FILE is at most 64 MiB: sign a SHA256SUMS of larger ones.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd.Context(), o, args, s)
		},
	}
	c.Flags().StringVar(&o.key, "key", "", "the private key to sign with (required)")
	return c
}

func runSign(ctx context.Context, o signOptions, args []string, s streams) error {
	if o.key == "" {
		return usagef("sign needs --key KEY.key")
	}
	priv, err := keys.LoadPrivate(o.key)
	if err != nil {
		return err
	}
	if w := keys.CheckPrivateMode(o.key); w != nil {
		fmt.Fprintf(s.err, "airlock: warning: %s; anyone who can read it can sign: run chmod 600 %s\n", w, o.key)
	}
	id := keys.ID(priv.Public().(ed25519.PublicKey))
	for _, path := range args {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := readSignedFile(path)
		if err != nil {
			return err
		}
		sig := verify.Sign(priv, data)
		if err := writeFileAtomic(path+".sig", func(f *os.File) error { _, err := f.Write(sig); return err }); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "signed %s with key %s: %s.sig\n", path, id, path)
	}
	return nil
}

// readSignedFile reads a regular file of at most maxSignedFileSize bytes;
// a FIFO or device is refused before it is opened, so nothing waits on it.
func readSignedFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); sign regular files only", path, fi.Mode().Type())
	}
	var data []byte
	if fi.Size() > maxSignedFileSize {
		err = &bounded.TooLargeError{Name: path, Limit: maxSignedFileSize}
	} else {
		data, err = bounded.ReadFile(path, maxSignedFileSize) // bounded even if it grows
	}
	if errors.As(err, new(*bounded.TooLargeError)) {
		return nil, withHint(err, "sign a list of its checksums instead: sha256sum FILE > SHA256SUMS")
	}
	return data, err
}
