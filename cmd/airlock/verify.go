package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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
	partial   bool
	imageSigs []string
}

func newVerifyCmd(s streams) *cobra.Command {
	var o verifyOptions
	c := &cobra.Command{
		Use:   "verify BUNDLE | PART... --pub KEY.pub",
		Short: "Check a bundle's signature and every checksum",
		Long: `Check a bundle: the signature over SHA256SUMS first, then every entry's
checksum in one streaming pass. BUNDLE is the bundle file, its first part
(the others are found beside it), or all parts in order. Exits 3 naming the
entry and part on any mismatch.

A bundle split with a signed part index (NAME.parts.sha256 beside the parts)
may be given as any parts from any folders, in any order: each part is
checked against the index on its own, and a bad part is named exactly.
With every data part present, every entry is checked as well. A missing
part fails the check unless --partial is given, which checks the parts at
hand (one disc as it arrives) and lists the ones still missing.

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
	c.Flags().BoolVar(&o.partial, "partial", false, "check only the parts given; missing parts are listed, not a failure")
	c.Flags().StringArrayVar(&o.imageSigs, "image-signatures", nil, "cosign public key: re-check every image's carried upstream signature with it (repeatable; any one suffices)")
	return c
}

func addPubFlag(c *cobra.Command, pubs *[]string) {
	c.Flags().StringArrayVar(pubs, "pub", nil, "trusted public key file, or a directory of *.pub files (repeatable)")
}

// openBundle loads the trusted keys and opens a bundle, checking its signature.
func openBundle(pubs, args []string, stderr io.Writer) (*bundle.Reader, error) {
	trusted, err := loadTrusted(pubs, stderr)
	if err != nil {
		return nil, err
	}
	return bundle.Open(args, trusted)
}

// loadTrusted loads the trusted keys (--pub, required) and prints what
// was skipped.
func loadTrusted(pubs []string, stderr io.Writer) ([]keys.Public, error) {
	if len(pubs) == 0 {
		return nil, usagef("no trusted key given; pass --pub KEY.pub (a file or a directory of trusted keys)")
	}
	trusted, warnings, err := keys.LoadTrusted(pubs)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "airlock: warning: %s\n", w)
	}
	return trusted, err
}

func runVerify(ctx context.Context, o verifyOptions, args []string, s streams) error {
	start := time.Now()
	cosignKeys, err := loadCosignKeys(o.imageSigs)
	if err != nil {
		return err
	}
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	set, err := bundle.FindSet(args, trusted)
	if err != nil {
		return partsHint(err, nil)
	}
	if set != nil && (o.partial || len(set.Missing()) > 0 && hasMissingData(set)) {
		return verifyParts(ctx, o, set, s)
	}
	var r *bundle.Reader
	if set != nil {
		r, err = bundle.OpenSet(set, trusted)
	} else {
		r, err = bundle.Open(args, trusted)
	}
	if err != nil {
		return partsHint(err, set)
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
		return partsHint(err, set)
	}
	if err != nil {
		return err
	}
	if set != nil {
		// The data parts were checked as the stream left them; now parity.
		for i := range set.Index.Files() {
			st := checkPart(ctx, set, i, i < len(set.Index.Data))
			res.Parts = append(res.Parts, st)
			if !o.json {
				printPart(s, st)
			}
			if st.Status == "bad" {
				return partsHint(&verify.Error{Part: st.Path, Reason: st.Error}, set)
			}
		}
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
		return writeJSON(s.out, res)
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

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func hasMissingData(set *bundle.PartSet) bool {
	return slices.Contains(set.Paths[:len(set.Index.Data)], "")
}

// checkPart checks one file of a part set on its own (or reports it
// checked when the stream already did).
func checkPart(ctx context.Context, set *bundle.PartSet, i int, streamed bool) partStatus {
	st := partStatus{Name: set.Name(i), Path: set.Paths[i], Status: "ok"}
	if st.Path == "" {
		st.Status = "missing"
		return st
	}
	if streamed {
		return st
	}
	if err := set.Check(ctx, i); err != nil {
		var ve *verify.Error
		if !errors.As(err, &ve) {
			st.Status, st.Error = "bad", err.Error()
			return st
		}
		st.Status, st.Error = "bad", ve.Reason
	}
	return st
}

func printPart(s streams, st partStatus) {
	switch st.Status {
	case "ok":
		fmt.Fprintf(s.out, "ok       %s (%s)\n", st.Name, st.Path)
	case "missing":
		fmt.Fprintf(s.out, "missing  %s\n", st.Name)
	default:
		fmt.Fprintf(s.out, "BAD      %s (%s): %s\n", st.Name, st.Path, st.Error)
	}
}

// verifyParts checks the parts of a set that are at hand, each on its own.
func verifyParts(ctx context.Context, o verifyOptions, set *bundle.PartSet, s streams) error {
	x := set.Index
	if !o.json {
		fmt.Fprintf(s.out, "part index %s: signature ok, signed by %s (%s); bundle %s, %d data part(s), %d parity part(s)\n",
			set.IndexPath, set.Signer.ID, set.Signer.Path, x.Bundle, len(x.Data), len(x.Parity))
	}
	res := verifyResult{Bundle: x.Bundle, Signer: set.Signer.ID}
	var bad []string
	present := 0
	for i := range x.Files() {
		if err := ctx.Err(); err != nil {
			return err
		}
		st := checkPart(ctx, set, i, false)
		res.Parts = append(res.Parts, st)
		switch st.Status {
		case "bad":
			bad = append(bad, st.Name)
		case "ok":
			if i < len(x.Data) {
				present++
			}
			res.Files = append(res.Files, st.Path)
		}
		if !o.json {
			printPart(s, st)
		}
	}
	if o.json {
		if err := writeJSON(s.out, res); err != nil {
			return err
		}
	}
	missing := set.Missing()
	switch {
	case len(bad) > 0:
		return partsHint(&verify.Error{Reason: fmt.Sprintf("%s %s not the signed part%s (see above)", strings.Join(bad, ", "), isAre(len(bad)), plural(len(bad)))}, set)
	case hasMissingData(set) && !o.partial:
		_, err := set.DataPaths()
		return partsHint(err, set)
	}
	if !o.json {
		fmt.Fprintf(s.out, "verified %d of %d part(s)", len(res.Files), len(x.Files()))
		if len(missing) > 0 {
			fmt.Fprintf(s.out, "; still missing: %s", strings.Join(missing, ", "))
		} else {
			fmt.Fprint(s.out, "; every part is here: verify them together to check every entry")
		}
		fmt.Fprintln(s.out)
	}
	return nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// partsHint adds advice to a failure of a split bundle's parts.
func partsHint(err error, set *bundle.PartSet) error {
	if !verify.IsFailure(err) || errors.Is(err, verify.ErrUntrustedSignature) {
		return err
	}
	var pe *bundle.PartsError
	switch {
	case errors.As(err, &pe) && pe.Repairable && len(set.Index.Parity) > 0:
		return withHint(err, fmt.Sprintf("the parity parts can rebuild this: run 'airlock repair' with every part you have (it rebuilds up to %d), or copy the named parts again", len(set.Index.Parity)))
	case errors.As(err, &pe) && pe.Missing:
		return withHint(err, "give every part (they may sit in different folders), or check only the parts at hand with --partial")
	case set != nil && len(set.Index.Parity) > 0:
		return withHint(err, fmt.Sprintf("do not import this bundle yet; 'airlock repair' rebuilds up to %d damaged or missing part(s) from the parity parts, or copy the named part again", len(set.Index.Parity)))
	}
	return withHint(err, "do not import this bundle; copy the named part again from the source and re-run verify")
}
