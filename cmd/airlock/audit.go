package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/verify"
)

type auditOptions struct {
	s3       s3Flags
	pubs     []string
	manifest string
	deep     bool
	json     bool
	evidence string
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
			return runAudit(cmd, o, s)
		},
	}
	o.s3.add(c)
	addPubFlag(c, &o.pubs)
	c.Flags().StringVar(&o.manifest, "manifest", "", "audit against this bundle (file or first part) instead of the recorded manifests")
	c.Flags().BoolVar(&o.deep, "deep", false, "download and re-hash every object")
	c.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	c.Flags().StringVar(&o.evidence, "evidence", "", "write a JSON evidence record to this file")
	return c
}

type auditBundle struct {
	ID      string    `json:"id"`
	Signer  string    `json:"signer"`
	Created time.Time `json:"created"`
}

type auditChange struct {
	Key    string `json:"key"`
	Change string `json:"change"`
	Want   string `json:"want"`
	Got    string `json:"got"`
}

// auditEvidence is what audit found; --evidence writes it.
type auditEvidence struct {
	CheckedAt  time.Time       `json:"checked_at"`
	Bucket     string          `json:"bucket"`
	Endpoint   string          `json:"endpoint,omitempty"`
	Prefix     string          `json:"prefix,omitempty"`
	Deep       bool            `json:"deep"`
	Keys       []string        `json:"trusted_keys"`
	Bundles    []auditBundle   `json:"bundles"`
	Checked    int             `json:"checked"`
	Missing    []bucket.Object `json:"missing"`
	Changed    []auditChange   `json:"changed"`
	Unexpected []bucket.Object `json:"unexpected"`
	Result     string          `json:"result"`
}

func runAudit(cmd *cobra.Command, o auditOptions, s streams) error {
	ctx := cmd.Context()
	if len(o.pubs) == 0 {
		return usagef("no trusted key given; pass --pub KEY.pub (a file or a directory of trusted keys)")
	}
	if o.evidence != "" {
		if err := checkFolder(o.evidence); err != nil {
			return err
		}
	}
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	store, err := o.s3.open(ctx, cmd)
	if err != nil {
		return err
	}
	if err := store.Check(ctx); err != nil {
		return err
	}
	records, err := auditRecords(cmd, o, store, trusted)
	if err != nil {
		return err
	}
	want, prefixes := bucket.ExpectedFrom(records)
	rep, err := store.Audit(ctx, want, prefixes, bucket.WithDeep(o.deep))
	if err != nil {
		return err
	}
	ev := evidence(o, store, trusted, records, rep)
	if o.evidence != "" {
		if err := writeFileAtomic(o.evidence, func(f *os.File) error { return writeIndentedJSON(f, ev) }); err != nil {
			return err
		}
	}
	if o.json {
		if err := writeJSON(s, ev); err != nil {
			return err
		}
	} else {
		printAudit(s, ev)
	}
	if !rep.OK() {
		return withHint(&verify.Error{Reason: fmt.Sprintf("bucket %s drifted from the signed manifests: %d missing, %d changed, %d unexpected",
			store.Bucket(), len(rep.Missing), len(rep.Changed), len(rep.Unexpected))},
			"import the bundle again to restore missing objects (--overwrite for changed ones, --force for content changes only --deep sees) and find out who wrote the others")
	}
	return nil
}

func auditRecords(cmd *cobra.Command, o auditOptions, store *bucket.Store, trusted []keys.Public) ([]bucket.Record, error) {
	if o.manifest == "" {
		records, err := store.Records(cmd.Context(), o.s3.prefix, trusted)
		if err == nil && len(records) == 0 {
			err = fmt.Errorf("bucket %s holds no bundle records under %s%s; import a bundle first, or pass --manifest BUNDLE", store.Bucket(), o.s3.prefix, bucket.RecordFolder)
		}
		return records, err
	}
	r, err := bundle.Open([]string{o.manifest}, trusted)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return []bucket.Record{{ID: r.ID, Prefix: o.s3.prefix, Signer: r.Signer, Manifest: r.Manifest}}, nil
}

func evidence(o auditOptions, store *bucket.Store, trusted []keys.Public, records []bucket.Record, rep *bucket.Report) auditEvidence {
	ev := auditEvidence{CheckedAt: time.Now().UTC(), Bucket: store.Bucket(), Endpoint: store.Endpoint(), Prefix: o.s3.prefix,
		Deep: o.deep, Checked: rep.Checked, Missing: nonNil(rep.Missing), Unexpected: nonNil(rep.Unexpected), Result: "ok",
		Keys: []string{}, Bundles: []auditBundle{}, Changed: []auditChange{}}
	for _, k := range trusted {
		ev.Keys = append(ev.Keys, k.ID)
	}
	for _, r := range records {
		ev.Bundles = append(ev.Bundles, auditBundle{ID: r.ID, Signer: r.Signer.ID, Created: r.Manifest.Created})
	}
	for _, c := range rep.Changed {
		ev.Changed = append(ev.Changed, auditChange{Key: c.Want.Key, Change: string(c.Change),
			Want: fmt.Sprintf("%d bytes, sha256 %s", c.Want.Size, c.Want.SHA256), Got: fmt.Sprintf("%d bytes, sha256 %s", c.Got.Size, orDash(c.Got.SHA256))})
	}
	if !rep.OK() {
		ev.Result = "drift"
	}
	return ev
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printAudit(s streams, ev auditEvidence) {
	for _, m := range ev.Missing {
		fmt.Fprintf(s.out, "missing     %s\n", m.Key)
	}
	for _, c := range ev.Changed {
		fmt.Fprintf(s.out, "changed     %s (%s: want %s, got %s)\n", c.Key, c.Change, c.Want, c.Got)
	}
	for _, u := range ev.Unexpected {
		fmt.Fprintf(s.out, "unexpected  %s\n", u.Key)
	}
	fmt.Fprintf(s.out, "audited %d objects of %d bundle(s) in %s: %s\n", ev.Checked, len(ev.Bundles), ev.Bucket, ev.Result)
}

func writeIndentedJSON(f *os.File, v any) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nonNil keeps empty lists as [] in JSON.
func nonNil(objs []bucket.Object) []bucket.Object {
	if objs == nil {
		return []bucket.Object{}
	}
	return objs
}
