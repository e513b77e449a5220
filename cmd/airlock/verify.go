package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/verify"
)

type verifyOptions struct {
	pubs      []string
	json      bool
	partial   bool
	imageSigs []string
	sigstore  sigstoreFlags
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
hand (one disc as it arrives) and lists the ones still missing; like
'sha256sum --ignore-missing -c', it fails when no part is at hand, and it
needs the part index (beside the parts, or given by path). A file named
like a part that the index does not list is left out with a warning; of
two copies of a part (a damaged one and the one repair rebuilt), the one
that matches the index is used and the other named.

With --image-signatures KEY.pub, every image's upstream cosign signature is
re-checked offline from the evidence the bundle carries (export
--carry-signatures): the signature must verify with one of the keys for the
recorded signed digest, and that digest must lead to the converted image.
With --trusted-root trusted_root.json, certificate-based signatures in
sigstore bundles are re-checked too: the certificate must chain to the
trusted root and be valid now, and its identity must match
--certificate-identity-regexp and --certificate-oidc-issuer (without them,
the identity recorded at export). Carried attestations (export
--carry-attestations) must verify alike.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), o, args, s)
		},
	}
	addPubFlag(c, &o.pubs)
	c.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	c.Flags().BoolVar(&o.partial, "partial", false, "check only the parts given; missing parts are listed, not a failure")
	c.Flags().StringArrayVar(&o.imageSigs, "image-signatures", nil, "cosign public key: re-check every image's carried upstream signature and attestations with it (repeatable; any one suffices)")
	o.sigstore.add(c, "re-check")
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
	r, err := bundle.Open(args, trusted)
	if err == nil {
		warnIgnored(stderr, r.Ignored)
	}
	return r, err
}

// warnIgnored names the files given or found that were left out.
func warnIgnored(stderr io.Writer, ignored []bundle.Ignored) {
	for _, g := range ignored {
		fmt.Fprintf(stderr, "airlock: warning: left out %s: %s\n", g.Path, g.Reason)
	}
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
	root, err := o.sigstore.load()
	if err != nil {
		return err
	}
	recheck := provenance.Policy{Keys: cosignKeys, Root: root, Identities: o.sigstore.identities()}
	rechecking := cosignKeys != nil || root != nil
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	set, err := bundle.FindSet(args, trusted)
	if err != nil {
		return partsHint(err, nil)
	}
	if set == nil && o.partial {
		return bundle.NoIndexError(args)
	}
	if set != nil && !o.json {
		warnIgnored(s.err, set.Ignored) // before the check, which may fail
	}
	if set != nil && (o.partial || set.MissingData()) {
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
	ev := newCarriedEvidence(rechecking)
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
			if !o.json && !strings.HasPrefix(e.Path, manifest.MembersFolder) {
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
	if !o.json {
		for _, e := range r.Manifest.Images {
			fmt.Fprintf(s.out, "ok  %-60s %10s from %d member(s), each verified; import checks the assembled sha256\n", e.Path, humanBytes(e.Size), len(e.Members))
		}
	}
	if set != nil {
		// The data parts were checked as the stream left them; now parity.
		parts, err := set.CheckAll(ctx, bundle.CheckOptions{Streamed: true, Each: partPrinter(s, o.json)})
		res.Parts = newPartStatuses(parts)
		if err != nil {
			return partsHint(err, set)
		}
	}
	res.Ignored = newIgnoredFiles(r.Ignored)
	if set == nil && !o.json {
		warnIgnored(s.err, r.Ignored) // parts after the end of the stream, known now
	}
	if rechecking {
		if res.Signatures, err = ev.check(ctx, r.Manifest, recheck); err != nil {
			return withHint(err, "do not import images whose upstream signature fails; pass every publisher's key with --image-signatures (or the trusted root and identity of keyless signers), and export with --carry-signatures so the evidence travels")
		}
		if !o.json {
			for _, sig := range res.Signatures {
				line := fmt.Sprintf("ok  %-60s signed at %s by %s", sig.Key, sig.SignedDigest, provenance.Signers(sig.Keys, sig.Identities))
				if len(sig.Attestations) > 0 {
					line += "; attestations: " + strings.Join(sig.Attestations, ", ")
				}
				fmt.Fprintln(s.out, line)
			}
		}
	}
	res.Bytes, res.Seconds = n, time.Since(start).Seconds()
	res.Freshness = bundleFreshness(r, time.Now())
	if o.json {
		return writeJSON(s.out, res)
	}
	fmt.Fprintln(s.out, res.Freshness.line())
	fmt.Fprintf(s.out, "verified %d entries, %s in %d file(s) in %.1fs (%s/s)\n",
		len(res.Entries), humanBytes(n), len(r.Files), res.Seconds, humanBytes(int64(float64(n)/max(res.Seconds, 1e-3))))
	return nil
}

// uploadSize is how many bytes an import of m uploads at most: what
// totalSize counts, with format 2's members, recipes and TGZSUMS replaced
// by the tgz files assembled from them.
func uploadSize(m *manifest.Manifest) int64 {
	if m.Format != manifest.FormatV2 {
		return totalSize(m)
	}
	var n int64
	for _, e := range m.Entries {
		var ms membersSummary
		if !ms.add(e) {
			n += e.Size
		}
	}
	for _, e := range m.Images {
		n += e.Size
	}
	return n
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

// partPrinter prints each part's status as CheckAll reports it (nothing
// with --json).
func partPrinter(s streams, asJSON bool) func(bundle.PartStatus) {
	return func(st bundle.PartStatus) {
		switch {
		case asJSON:
		case st.State == bundle.PartOK:
			fmt.Fprintf(s.out, "ok       %s (%s)\n", st.Name, st.Path)
		case st.State == bundle.PartMissing:
			fmt.Fprintf(s.out, "missing  %s\n", st.Name)
		default:
			fmt.Fprintf(s.out, "BAD      %s (%s): %s\n", st.Name, st.Path, st.Reason)
		}
	}
}

// verifyParts checks the parts of a set that are at hand, each on its own.
func verifyParts(ctx context.Context, o verifyOptions, set *bundle.PartSet, s streams) error {
	x := set.Index
	if !o.json {
		fmt.Fprintf(s.out, "part index %s: signature ok, signed by %s (%s); bundle %s, %d data part(s), %d parity part(s)\n",
			set.IndexPath, set.Signer.ID, set.Signer.Path, x.Bundle, len(x.Data), len(x.Parity))
	}
	res := verifyResult{Bundle: x.Bundle, Signer: set.Signer.ID, Ignored: newIgnoredFiles(set.Ignored)}
	parts, err := set.CheckAll(ctx, bundle.CheckOptions{Partial: o.partial, Each: partPrinter(s, o.json)})
	res.Parts = newPartStatuses(parts)
	for _, st := range parts {
		if st.State == bundle.PartOK {
			res.Files = append(res.Files, st.Path)
		}
	}
	if o.json && ctx.Err() == nil {
		if err := writeJSON(s.out, res); err != nil {
			return err
		}
	}
	if err != nil {
		return partsHint(err, set)
	}
	if !o.json {
		missing := set.Missing()
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

// partsHint adds advice to a failure of a split bundle's parts.
func partsHint(err error, set *bundle.PartSet) error {
	if !verify.IsFailure(err) || errors.Is(err, verify.ErrUntrustedSignature) ||
		errors.Is(err, bundle.ErrNothingAtHand) || errors.Is(err, bundle.ErrNoIndex) {
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
