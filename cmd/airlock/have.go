package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/inventory"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// haveFlags are export's delta flags: ship only what a receipt from the
// disconnected side (airlock inventory) does not list.
type haveFlags struct {
	receipt  string
	pubs     []string
	unsigned bool
	prefix   string
	r        *inventory.Receipt
	// base is what the delta is cut against, for the bundle's manifest;
	// set by apply, nil without --have or when nothing is skipped.
	base *manifest.Base
}

func (h *haveFlags) add(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&h.receipt, "have", "", "receipt from airlock inventory: leave out the images the bucket holds already")
	f.StringArrayVar(&h.pubs, "have-pub", nil, "public key that signed the receipt, or a directory of them (repeatable)")
	f.BoolVar(&h.unsigned, "have-unsigned", false, "accept a receipt without (checking) a signature")
	f.StringVar(&h.prefix, "have-prefix", "", "the --prefix this delivery will be imported with; must be the receipt's")
}

// load checks the flags and reads the receipt, before anything is resolved.
func (h *haveFlags) load(stderr io.Writer) error {
	if h.receipt == "" {
		if len(h.pubs) > 0 || h.unsigned || h.prefix != "" {
			return usagef("--have-pub, --have-unsigned and --have-prefix need --have RECEIPT.json")
		}
		return nil
	}
	if len(h.pubs) == 0 && !h.unsigned {
		return usagef("--have needs --have-pub OFFLINE.pub to check the receipt's signature (or --have-unsigned to trust it unchecked)")
	}
	if h.prefix != "" {
		if err := inventory.CheckPrefix(withSlash(h.prefix)); err != nil {
			return usageError{err}
		}
	}
	var trusted []keys.Public
	if len(h.pubs) > 0 {
		var err error
		if trusted, err = loadTrusted(h.pubs, stderr); err != nil {
			return err
		}
	}
	r, err := inventory.Load(h.receipt, trusted, h.unsigned)
	if errors.As(err, new(*inventory.UnsignedError)) {
		return withHint(err, "sign receipts with 'airlock inventory --key OFFLINE.key', or pass --have-unsigned to trust this one unchecked")
	}
	h.r = r
	return err
}

// held are the members the receipt's bucket holds, for a format 2 delta;
// nil without a receipt.
func (h *haveFlags) held() map[string]manifest.Have {
	if h.r == nil {
		return nil
	}
	return h.r.HeldMembers()
}

func withSlash(p string) string {
	if p != "" && p[len(p)-1] != '/' {
		return p + "/"
	}
	return p
}

// apply leaves out the targets the receipt lists and says what it did. It
// returns the targets to export: none after a dry run or when nothing is
// missing (then there is nothing more to do).
func (h *haveFlags) apply(s streams, targets []source.Target, dryRun, asJSON bool) ([]source.Target, error) {
	if h.r == nil {
		return targets, nil
	}
	p, err := inventory.Delta(h.r, targets, withSlash(h.prefix))
	var moved *inventory.MovedError
	var pe *inventory.PrefixError
	switch {
	case errors.As(err, &moved):
		return nil, withHint(err, "give the new image a new version ('REF as NAME:VERSION') so both live side by side; "+
			"to replace the object on purpose, export without --have and import with --overwrite (Concourse workers that cached the old version will not see the change)")
	case errors.As(err, &pe):
		return nil, withHint(err, fmt.Sprintf("pass --have-prefix %q if this delivery will be imported with --prefix %q; otherwise make a receipt with 'airlock inventory --prefix' for the prefix it is for", pe.Have, pe.Have))
	case err != nil:
		return nil, err
	}
	h.base = p.Base()
	rows := deltaRows(p)
	if dryRun {
		return nil, printDelta(s, p, rows, asJSON)
	}
	ship := p.Ship()
	if asJSON {
		enc := newEventEncoder(s.out)
		for _, r := range rows {
			if r.Action == "skip" {
				if err := enc.Encode(deltaEvent{"skipped", r}); err != nil {
					return nil, err
				}
			}
		}
		if len(ship) == 0 {
			return nil, enc.Encode(nothingShipped{Event: "done", Skipped: p.Skipped(), Saved: p.Saved})
		}
		return ship, nil
	}
	for _, r := range rows {
		if r.Action == "skip" {
			fmt.Fprintf(s.err, "skipped    %s: %s\n", r.Key, r.Why)
		}
	}
	where := fmt.Sprintf("bucket %s", h.r.Bucket)
	if h.r.Prefix != "" {
		where += fmt.Sprintf(" under prefix %s (import with --prefix %s)", h.r.Prefix, h.r.Prefix)
	}
	if len(ship) == 0 {
		fmt.Fprintf(s.err, "nothing to ship: all %d image(s) are in %s already (receipt of %s); no bundle written\n",
			len(targets), where, h.r.Created.Format("2006-01-02 15:04Z"))
		return nil, nil
	}
	fmt.Fprintf(s.err, "delta against %s: shipping %d of %d image(s), %d already there (%s saved)\n",
		where, len(ship), len(targets), p.Skipped(), humanBytes(p.Saved))
	return ship, nil
}

func deltaRows(p *inventory.Plan) []deltaRow {
	rows := make([]deltaRow, len(p.Decisions))
	for i, d := range p.Decisions {
		t := d.Target
		r := deltaRow{Action: "ship", Reason: d.Reason, Source: t.Request.Ref, Platform: t.Platform.String(), Digest: t.Digest.String(), Key: t.Key}
		switch d.Reason {
		case inventory.Present:
			r.Action, r.Size = "skip", d.Have.Size
			r.Why = fmt.Sprintf("in the bucket with this digest (bundle %s)", d.Have.Bundle)
		case inventory.Retagged:
			r.Why = fmt.Sprintf("same image as %s in the bucket; a new key (the staging copy is reused when cached)", d.Have.Key)
		case inventory.Repairing:
			r.Why = "left out of the receipt, " + d.Detail
		default:
			r.Why = "not in the bucket"
		}
		rows[i] = r
	}
	return rows
}

func printDelta(s streams, p *inventory.Plan, rows []deltaRow, asJSON bool) error {
	if asJSON {
		enc := newEventEncoder(s.out)
		for _, r := range rows {
			if err := enc.Encode(deltaEvent{"delta", r}); err != nil {
				return err
			}
		}
		// Only what was checked: the signer field of a receipt whose
		// signature was not checked is a claim, not a fact.
		var signer string
		if p.Receipt.SignedBy != nil {
			signer = p.Receipt.SignedBy.ID
		}
		return enc.Encode(deltaSummary{"delta_summary", p.Receipt.Bucket, p.Receipt.Prefix, signer != "", signer, len(p.Ship()), p.Skipped(), p.Saved})
	}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tKEY\tPLATFORM\tDIGEST\tWHY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Action, r.Key, r.Platform, shortDigest(r.Digest), r.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(s.out, "ship %d, skip %d (already in bucket %s under %q): %s saved\nreceipt: %s\n",
		len(p.Ship()), p.Skipped(), p.Receipt.Bucket, p.Receipt.Prefix, humanBytes(p.Saved), receiptCheck(p.Receipt))
	return err
}

// receiptCheck says what was checked of a receipt's signature.
func receiptCheck(r *inventory.Receipt) string {
	switch {
	case r.SignedBy != nil:
		return fmt.Sprintf("signed by key %s (checked)", r.SignedBy.ID)
	case r.Unchecked:
		return "signature not checked (no --have-pub given; accepted with --have-unsigned)"
	}
	return "unsigned (accepted with --have-unsigned)"
}
