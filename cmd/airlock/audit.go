package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/record"
)

type auditOptions struct {
	s3       s3Flags
	pubs     []string
	manifest string
	deep     bool
	json     bool
	evidence string
	now      nowValue
}

func newAuditCmd(s streams) *cobra.Command {
	var o auditOptions
	c := &cobra.Command{
		Use:   "audit --bucket B --pub KEY.pub [--deep] [--evidence FILE]",
		Short: "Prove the bucket still matches the signed manifests",
		Long: `Check that the bucket still holds exactly what signed bundles put there. The
manifests recorded by import (under .airlock/bundles/), or the bundle given
with --manifest, are checked against the trusted keys; then every listed
object is checked for existence, size and recorded sha256 (--deep downloads
and re-hashes each one), and objects nobody listed under the managed folders
are reported. Any drift exits with code 3. --evidence writes a JSON record
of what was checked, when, against which keys, and the result.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), o, s)
		},
	}
	o.s3.add(c)
	addPubFlag(c, &o.pubs)
	c.Flags().StringVar(&o.manifest, "manifest", "", "audit against this bundle (file or first part) instead of the recorded manifests")
	c.Flags().BoolVar(&o.deep, "deep", false, "download and re-hash every object")
	c.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	c.Flags().Var(&o.now, "now", "reference time for the channel states' expiry (RFC 3339 or YYYY-MM-DD), for a machine whose clock is wrong (default: the clock)")
	c.Flags().StringVar(&o.evidence, "evidence", "", "write a JSON evidence record to this file")
	return c
}

func runAudit(ctx context.Context, o auditOptions, s streams) error {
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	if o.evidence != "" {
		if err := checkFolder(o.evidence); err != nil {
			return err
		}
	}
	store, err := o.s3.open(ctx)
	if err != nil {
		return err
	}
	if err := store.Check(ctx); err != nil {
		return s3Hint(err)
	}
	set, err := auditRecords(ctx, o, store, trusted)
	if err != nil {
		return err
	}
	rep, err := audit.Run(ctx, store, set, audit.WithDeep(o.deep), audit.WithPrefix(o.s3.prefix), audit.WithTrusted(trusted))
	if err != nil {
		return err
	}
	var channels []freshness.ChannelReport
	if o.manifest == "" { // the channel states name records: all of them are needed
		if channels, err = freshness.Audit(ctx, store, o.s3.prefix, set.Records, cmp.Or(o.now.t, time.Now())); err != nil {
			return err
		}
	}
	ev := rep.Evidence()
	ev.Channels = channelRecords(channels)
	if o.evidence != "" {
		if err := writeFileAtomic(o.evidence, func(f *os.File) error { return ev.WriteJSON(f) }); err != nil {
			return err
		}
	}
	if o.json {
		if err := ev.WriteJSON(s.out); err != nil { // one object checked at a time
			return err
		}
	} else {
		printAudit(s, ev)
		printChannels(s, channels)
	}
	if err := freshness.TamperedStates(channels); err != nil {
		return withHint(err, "find out who wrote them (the bucket's access log); then import each channel's newest bundle with --allow-rollback to rewrite its state, or remove a state of a key or channel nobody signs with")
	}
	if err := rep.Err(); err != nil {
		return withHint(err, "import the bundle again to restore missing objects (--overwrite for changed ones, --force for content changes only --deep sees), "+
			"find out who wrote the others; a re-run of the import also removes incomplete uploads")
	}
	return nil
}

// auditRecords reads the records to audit against, signatures checked,
// keeping of each only what the audit reports and the objects it expects.
func auditRecords(ctx context.Context, o auditOptions, store *bucket.Store, trusted []keys.Public) (*record.Set, error) {
	if o.manifest == "" {
		set, err := record.Scan(ctx, store, o.s3.prefix, trusted)
		if err == nil && set.Len() == 0 {
			return nil, noRecords(ctx, o, store)
		}
		return set, err
	}
	r, err := bundle.Open([]string{o.manifest}, trusted)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return record.NewSet([]record.Record{record.FromBundle(o.s3.prefix, r)})
}

// noRecords explains an empty record area, pointing at records kept
// under another prefix when there are some.
func noRecords(ctx context.Context, o auditOptions, store *bucket.Store) error {
	err := fmt.Errorf("bucket %s holds no bundle records under %s%s", store.Bucket(), o.s3.prefix, record.Folder)
	others, lerr := record.Prefixes(ctx, store)
	if lerr != nil || len(others) == 0 {
		return withHint(err, "import a bundle first, or pass --manifest BUNDLE")
	}
	var flags []string
	for _, p := range others {
		if p == "" {
			flags = append(flags, "no --prefix")
			continue
		}
		flags = append(flags, "--prefix "+p)
	}
	return withHint(err, "records exist under another prefix: pass "+strings.Join(flags, " or "))
}

func printAudit(s streams, ev audit.Evidence) {
	for _, m := range ev.Missing {
		fmt.Fprintf(s.out, "missing     %s\n", m.Key)
	}
	for _, c := range ev.Changed {
		fmt.Fprintf(s.out, "changed     %s (%s: want %s, got %s)\n", c.Key, c.Change, state(c.Want), state(c.Got))
	}
	for _, u := range ev.Unexpected {
		fmt.Fprintf(s.out, "unexpected  %s\n", u.Key)
	}
	for _, u := range ev.Incomplete {
		fmt.Fprintf(s.out, "incomplete  %s (multipart upload %s, started %s)\n", u.Key, u.UploadID, u.Initiated.Format("2006-01-02 15:04:05Z07:00"))
	}
	fmt.Fprintf(s.out, "audited %d objects of %d bundle(s) in %s: %s\n", ev.Checked, len(ev.Bundles), ev.Bucket, ev.Result)
}

func state(o audit.ObjectState) string {
	sum := o.SHA256
	if sum == "" {
		sum = "-"
	}
	return fmt.Sprintf("%d bytes, sha256 %s", o.Size, sum)
}

// printChannels shows each channel state an audit found.
func printChannels(s streams, channels []freshness.ChannelReport) {
	for _, c := range channels {
		if c.Health == freshness.Healthy {
			fmt.Fprintf(s.out, "channel %s of key %s: sequence %d (bundle %s), accepted %s, expires %s: ok\n", c.State.Channel, c.State.Signer,
				c.State.Sequence, c.State.Bundle, c.State.Accepted.Format(time.RFC3339), c.State.Expires.Format(time.RFC3339))
			continue
		}
		level := "warning"
		if c.Health == freshness.Tampered {
			level = "error"
		}
		fmt.Fprintf(s.err, "airlock: %s: channel state %s: %s: %s\n", level, c.Key, c.Health, c.Problem)
	}
}

func channelRecords(channels []freshness.ChannelReport) []audit.ChannelRecord {
	out := []audit.ChannelRecord{}
	for _, c := range channels {
		out = append(out, audit.ChannelRecord{Key: c.Key, Health: string(c.Health), Problem: c.Problem, State: c.State})
	}
	return out
}
