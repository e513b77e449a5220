package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
)

type inspectOptions struct {
	pubs         []string
	json         bool
	attestations bool
}

func newInspectCmd(s streams) *cobra.Command {
	var o inspectOptions
	c := &cobra.Command{
		Use:   "inspect BUNDLE --pub KEY.pub",
		Short: "Show what a bundle holds (after checking its signature)",
		Long: `Show what a bundle holds: images, versions, platforms, sizes, digests, S3
keys, compression, the signer and when it was created, and what the export's
lint found that fails or misbehaves in Concourse (file counts, unpacked
sizes, findings). The signature is checked first; payload checksums are not
(use verify for that).

With --json, the signed manifest is printed as docs/format.md describes it;
an image without "compression" was written before it was recorded and was
compressed as "default".

With --attestations, the attestations the bundle carries (export
--carry-attestations: SBOMs, SLSA provenance) are listed per image with
their predicate type; 'airlock verify --image-signatures' re-checks them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), o, args, s)
		},
	}
	addPubFlag(c, &o.pubs)
	c.Flags().BoolVar(&o.json, "json", false, "print the bundle's description as JSON")
	c.Flags().BoolVar(&o.attestations, "attestations", false, "list the attestations (SBOMs, provenance) carried for each image")
	return c
}

func runInspect(_ context.Context, o inspectOptions, args []string, s streams) error {
	r, err := openBundle(o.pubs, args, s.err)
	if err != nil {
		return err
	}
	defer r.Close()
	if o.json {
		return writeJSON(s.out, inspectResult{Bundle: r.ID, Files: r.Files, Signer: r.Signer.ID, Manifest: r.Manifest, Freshness: bundleFreshness(r, time.Now())})
	}
	m := r.Manifest
	fmt.Fprintf(s.out, "bundle:   %s (format %d, %d file(s))\n", r.ID, m.Format, len(r.Files))
	fmt.Fprintf(s.out, "signer:   %s (%s)\n", r.Signer.ID, r.Signer.Path)
	fmt.Fprintf(s.out, "created:  %s\n", m.Created.Format(time.RFC3339))
	if m.Tool != "" {
		fmt.Fprintf(s.out, "tool:     %s\n", m.Tool)
	}
	fmt.Fprintf(s.out, "%s\n", bundleFreshness(r, time.Now()).line())
	fmt.Fprintf(s.out, "entries:  %d, %s\n\n", len(m.Entries), humanBytes(totalSize(m)))
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPLATFORM\tSIZE\tDIGEST\tKEY\tCOMPRESSION")
	var evidence, evidenceSize int64
	var members membersSummary
	for _, e := range m.Entries {
		if _, ok := provenance.BlobDigest(e.Path); ok && e.Image == nil {
			evidence, evidenceSize = evidence+1, evidenceSize+e.Size
			continue
		}
		if members.add(e) {
			continue
		}
		if e.Image == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t%s\t-\t-\t-\n", e.Path, humanBytes(e.Size))
		}
	}
	for _, e := range m.ImageObjects() {
		im := e.Image
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", im.Name, im.Version, im.Platform, humanBytes(e.Size), shortDigest(im.Digest), im.Key, im.Compression.OrDefault())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m.Format == manifest.FormatV2 {
		fmt.Fprintf(s.out, "\n%s\n", members.line(m))
	}
	if evidence > 0 {
		fmt.Fprintf(s.out, "\nsignature evidence: %d entries under %s, %s\n", evidence, manifest.SignaturePrefix, humanBytes(evidenceSize))
	}
	printLint(s, m)
	if err := printSignatures(s, m); err != nil {
		return err
	}
	return printAttestations(s, m, o.attestations)
}

// printLint shows, per image, what the export's lint recorded.
func printLint(s streams, m *manifest.Manifest) {
	header := false
	for _, e := range m.ImageObjects() {
		if !header {
			fmt.Fprintln(s.out, "\nConcourse lint (checked at export):")
			header = true
		}
		for _, line := range lintLines(e) {
			fmt.Fprintln(s.out, "  "+line)
		}
	}
}

// lintLines renders an image entry's lint: a summary line, then one line
// per finding, warnings first.
func lintLines(e manifest.Entry) []string {
	im := e.Image
	l := im.Lint
	if l == nil {
		return []string{im.Key + ": not checked (exported by an older airlock, or with --lint off)"}
	}
	lines := []string{fmt.Sprintf("%s: %d files, %s unpacked, %s tgz: a worker needs about %s free to fetch and unpack it; %d warning(s), %d note(s)",
		im.Key, l.Files, humanBytes(l.UncompressedSize), humanBytes(e.Size), humanBytes(l.UncompressedSize+e.Size), l.Warnings(), len(l.Findings)-l.Warnings())}
	for _, sev := range []string{manifest.SeverityWarning, manifest.SeverityInfo} {
		for _, f := range l.Findings {
			if f.Severity == sev {
				lines = append(lines, fmt.Sprintf("  %-7s %s", map[string]string{manifest.SeverityWarning: "warning", manifest.SeverityInfo: "note"}[sev], f))
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(l.Omitted)) {
		lines = append(lines, fmt.Sprintf("  note    %s: %d more not listed", c, l.Omitted[c]))
	}
	return lines
}

// printSignatures lists the upstream signature checks made at export.
func printSignatures(s streams, m *manifest.Manifest) error {
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	header := false
	for _, e := range m.ImageObjects() {
		if e.Image.Signature == nil {
			continue
		}
		sig := e.Image.Signature
		if !header {
			fmt.Fprintln(s.out, "\nupstream signatures (checked at export):")
			fmt.Fprintln(tw, "KEY\tSTATUS\tSIGNED DIGEST\tKEY IDS\tSIGNATURES\tCHECKED\tCARRIED")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%t\n", e.Image.Key, sig.Status, orDash(shortDigest(sig.SignedDigest)),
			orDash(strings.Join(sig.Keys, ",")), orDash(shortDigests(append(slices.Clone(sig.Signatures), sig.Bundles...))), sig.Checked.Format(time.RFC3339), sig.Carried)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range m.ImageObjects() {
		if e.Image.Signature == nil {
			continue
		}
		for _, id := range e.Image.Signature.Identities {
			fmt.Fprintf(s.out, "%s: signed by certificate identity %s (issuer %s)\n", e.Image.Key, id.Subject, id.Issuer)
		}
	}
	return nil
}

// printAttestations lists the carried attestations with list, or counts
// them.
func printAttestations(s streams, m *manifest.Manifest, list bool) error {
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	n := 0
	for _, e := range m.ImageObjects() {
		if e.Image.Signature == nil {
			continue
		}
		for _, a := range e.Image.Signature.Attestations {
			if n == 0 && list {
				fmt.Fprintln(s.out, "\nattestations (verified at export, carried):")
				fmt.Fprintln(tw, "KEY\tPREDICATE TYPE\tSIGNED DIGEST\tBUNDLE")
			}
			n++
			if list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Image.Key, a.PredicateType, shortDigest(e.Image.Signature.SignedDigest), shortDigest(a.Bundle))
			}
		}
	}
	if n > 0 && !list {
		fmt.Fprintf(s.out, "\nattestations: %d carried (inspect --attestations lists them)\n", n)
	}
	if list && n == 0 {
		fmt.Fprintln(s.out, "\nattestations: none carried (export with --carry-attestations)")
	}
	return tw.Flush()
}

func shortDigests(ds []string) string {
	var out []string
	for _, d := range ds {
		out = append(out, shortDigest(d))
	}
	return strings.Join(out, ",")
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// membersSummary counts a format 2 bundle's members, recipes and TGZSUMS,
// which inspect sums up in one line rather than listing.
type membersSummary struct {
	members, other int
	size           int64
	names          map[string]bool
}

// add counts e if it is one of those entries.
func (ms *membersSummary) add(e manifest.Entry) bool {
	switch {
	case strings.HasPrefix(e.Path, manifest.MembersFolder):
		ms.members++
		ms.size += e.Size
	case e.IsPack():
		if ms.names == nil {
			ms.names = map[string]bool{}
		}
		for _, name := range e.Members {
			if !ms.names[name] { // a whole pack may repeat a member
				ms.names[name] = true
				ms.members++
			}
		}
		ms.size += e.Size
	case strings.HasPrefix(e.Path, manifest.RecipesFolder), e.Path == manifest.TGZSumsName, e.Path == manifest.TableName:
		ms.other++
	default:
		return false
	}
	return true
}

// line says how much the members save against carrying each tgz whole.
func (ms membersSummary) line(m *manifest.Manifest) string {
	var whole int64
	var uses int
	for _, e := range m.ImageObjects() {
		whole += e.Size
		uses += len(e.Members)
	}
	saved := ""
	if whole > 0 {
		saved = fmt.Sprintf(", %.0f%% of the %s the tgz files take whole", 100*float64(ms.size)/float64(whole), humanBytes(whole))
	}
	return fmt.Sprintf("members:  %d distinct of %d used (format 2: each tgz is assembled from them at import), %s, and %d recipe and sums file(s)%s",
		ms.members, uses, humanBytes(ms.size), ms.other, saved)
}
