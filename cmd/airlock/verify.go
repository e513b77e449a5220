package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

type verifyOptions struct {
	pubs      []string
	json      bool
	imageSigs []string
}

func newVerifyCmd(s streams) *cobra.Command {
	var o verifyOptions
	c := &cobra.Command{
		Use:   "verify BUNDLE [PART...] --pub KEY.pub",
		Short: "Check a bundle's signature and every checksum",
		Long: `Check a bundle: the signature over SHA256SUMS first, then every entry's
checksum in one streaming pass. BUNDLE is the bundle file, its first part
(the others are found beside it), or all parts in order. Exits 3 naming the
entry and part on any mismatch.

With --image-signatures KEY.pub, every image's upstream cosign signature is
re-checked offline from the evidence the bundle carries (export
--carry-signatures): the signature must verify with one of the keys for the
recorded signed digest, and that digest must lead to the converted image.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), o, args, s)
		},
	}
	addPubFlag(c, &o.pubs)
	c.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	c.Flags().StringArrayVar(&o.imageSigs, "image-signatures", nil, "cosign public key: re-check every image's carried upstream signature with it (repeatable; any one suffices)")
	return c
}

func addPubFlag(c *cobra.Command, pubs *[]string) {
	c.Flags().StringArrayVar(pubs, "pub", nil, "trusted public key file, or a directory of *.pub files (repeatable)")
}

// openBundle loads the trusted keys and opens a bundle, checking its signature.
func openBundle(pubs, args []string) (*bundle.Reader, error) {
	if len(pubs) == 0 {
		return nil, usagef("no trusted key given; pass --pub KEY.pub (a file or a directory of trusted keys)")
	}
	trusted, err := keys.LoadTrusted(pubs)
	if err != nil {
		return nil, err
	}
	return bundle.Open(args, trusted)
}

type verifyResult struct {
	Bundle  string           `json:"bundle"`
	Files   []string         `json:"files"`
	Signer  string           `json:"signer"`
	Created time.Time        `json:"created"`
	Entries []manifest.Entry `json:"entries"`
	Bytes   int64            `json:"bytes"`
	Seconds float64          `json:"seconds"`
	// Signatures are the upstream signatures re-checked (--image-signatures).
	Signatures []imageSignature `json:"image_signatures,omitempty"`
}

func runVerify(ctx context.Context, o verifyOptions, args []string, s streams) error {
	start := time.Now()
	cosignKeys, err := loadCosignKeys(o.imageSigs)
	if err != nil {
		return err
	}
	r, err := openBundle(o.pubs, args)
	if err != nil {
		return err
	}
	defer r.Close()
	ev := newCarriedEvidence(cosignKeys != nil)
	if !o.json {
		fmt.Fprintf(s.out, "bundle %s: signature ok, signed by %s (%s)\n", r.ID, r.Signer.ID, r.Signer.Path)
	}
	bar := newByteBar(s.err, "verify", totalSize(r.Manifest))
	res := verifyResult{Bundle: r.ID, Files: r.Files, Signer: r.Signer.ID, Created: r.Manifest.Created}
	n, err := r.VerifyAll(ctx, bundle.Watcher{
		Bytes: func(_ string, n int64) { bar.add(n) },
		Copy:  ev.copy,
		Entry: func(e *manifest.Entry) {
			res.Entries = append(res.Entries, *e)
			if !o.json {
				bar.println(s.out, fmt.Sprintf("ok  %-60s %10s", e.Path, humanBytes(e.Size)))
			}
		},
	})
	bar.finish()
	if verify.IsFailure(err) {
		return withHint(err, "do not import this bundle; copy the named part again from the source and re-run verify")
	}
	if err != nil {
		return err
	}
	if cosignKeys != nil {
		if res.Signatures, err = ev.check(ctx, r.Manifest, cosignKeys); err != nil {
			return withHint(err, "do not import images whose upstream signature fails; pass every publisher's key with --image-signatures, and export with --carry-signatures so the evidence travels")
		}
		if !o.json {
			for _, sig := range res.Signatures {
				fmt.Fprintf(s.out, "ok  %-60s signed at %s by key %s\n", sig.Key, sig.SignedDigest, strings.Join(sig.Keys, ", "))
			}
		}
	}
	res.Bytes, res.Seconds = n, time.Since(start).Seconds()
	if o.json {
		return writeJSON(s, res)
	}
	fmt.Fprintf(s.out, "verified %d entries, %s in %d file(s) in %.1fs (%s/s)\n",
		len(res.Entries), humanBytes(n), len(r.Files), res.Seconds, humanBytes(int64(float64(n)/max(res.Seconds, 1e-3))))
	return nil
}

func totalSize(m *manifest.Manifest) int64 {
	var n int64
	for _, e := range m.Entries {
		n += e.Size
	}
	return n
}

func writeJSON(s streams, v any) error {
	enc := json.NewEncoder(s.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
