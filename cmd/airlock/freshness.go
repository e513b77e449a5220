package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/importer"
)

// freshnessFlags are import's flags of the freshness check (README
// "Rollback and freeze protection").
type freshnessFlags struct {
	now           nowValue
	allowRollback bool
	allowExpired  bool
}

func (f *freshnessFlags) add(c *cobra.Command) {
	c.Flags().Var(&f.now, "now", "reference time for the bundle's expiry (RFC 3339 or YYYY-MM-DD), for a machine whose clock is wrong (default: the clock)")
	c.Flags().BoolVar(&f.allowRollback, "allow-rollback", false, "import a bundle older than the channel's last accepted one, or another bundle of the same sequence (recorded in the channel state's history)")
	c.Flags().BoolVar(&f.allowExpired, "allow-expired", false, "import a bundle that has expired (recorded in the channel state's history)")
}

func (f *freshnessFlags) options() []importer.Option {
	var opts []importer.Option
	if !f.now.t.IsZero() {
		opts = append(opts, importer.WithNow(f.now.t))
	}
	if f.allowRollback {
		opts = append(opts, importer.WithAllow(freshness.AllowRollback))
	}
	if f.allowExpired {
		opts = append(opts, importer.WithAllow(freshness.AllowExpired))
	}
	return opts
}

// nowValue is --now: an RFC 3339 time or a date (midnight UTC).
type nowValue struct{ t time.Time }

func (v *nowValue) Set(s string) error {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			v.t = t
			return nil
		}
	}
	return fmt.Errorf("%q: want a time like 2026-11-30T12:00:00Z or a date like 2026-11-30", s)
}

func (v *nowValue) String() string {
	if v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339)
}
func (v *nowValue) Type() string { return "time" }

// freshnessLine renders a freshness verdict for people.
func freshnessLine(v *freshness.Verdict) string {
	if v.Status == freshness.Unversioned {
		return "freshness: unversioned (no channel, sequence or expiry: written before airlock had them; not checked for rollback or staleness)"
	}
	line := fmt.Sprintf("freshness: %s, channel %s sequence %d, expires %s", v.Status, v.Channel, v.Sequence, v.Expires.Format(time.RFC3339))
	if v.Stored > 0 {
		line += fmt.Sprintf(", last accepted sequence %d", v.Stored)
	}
	if len(v.Overrides) > 0 {
		var names []string
		for _, o := range v.Overrides {
			names = append(names, "--"+string(o))
		}
		line += " (let in by " + strings.Join(names, " ") + ")"
	}
	return line
}

// bundleFreshness is the verdict on r's freshness at the clock, with no
// channel state: whether it has expired (verify, inspect).
func bundleFreshness(r *bundle.Reader, now time.Time) *freshnessDoc {
	v, err := freshness.Check(freshness.FromManifest(r.ID, r.Raw, r.Manifest), nil, now)
	d := &freshnessDoc{Verdict: v}
	if f := r.Manifest.Freshness; f != nil {
		d.Previous = f.Previous
	}
	if err != nil {
		d.Reason = err.Error()
	}
	return d
}

// line renders d for people.
func (d *freshnessDoc) line() string {
	if d.Reason != "" {
		return "freshness: import would refuse it: " + d.Reason
	}
	line := freshnessLine(&d.Verdict)
	if d.Status != freshness.Unversioned {
		line += "; import also checks the sequence against the bucket's channel state"
	}
	return line
}
