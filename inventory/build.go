package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

// Option tunes Build.
type Option func(*options)

type options struct {
	deep    bool
	prefix  string
	trusted []keys.Public
	tool    string
	created time.Time
}

// WithDeep downloads and re-hashes every image object whose size and
// recorded sha256 look right (default off: metadata only).
func WithDeep(deep bool) Option { return func(o *options) { o.deep = deep } }

// WithPrefix names the import prefix the records were read under; the
// receipt's keys are relative to it.
func WithPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithTrusted names the keys the records were checked against, for the
// receipt.
func WithTrusted(trusted []keys.Public) Option { return func(o *options) { o.trusted = trusted } }

// WithTool records the program that made the receipt.
func WithTool(name string) Option { return func(o *options) { o.tool = name } }

// WithCreated fixes the receipt's creation time (default: now).
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t } }

// Build checks every image object that records (read under the prefix,
// signatures checked) say the bucket holds, as audit does, and returns the
// receipt: the intact ones in Images, the others in LeftOut. When records
// disagree about a key, the newest record wins. S3 errors stop it.
func Build(ctx context.Context, s *bucket.Store, records []record.Record, opts ...Option) (*Receipt, error) {
	o := options{created: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := CheckPrefix(o.prefix); err != nil {
		return nil, err
	}
	set, err := record.NewSet(records)
	if err != nil {
		return nil, err
	}
	rep, err := audit.Run(ctx, s, set, audit.WithDeep(o.deep), audit.WithPrefix(o.prefix), audit.WithTrusted(o.trusted))
	if err != nil {
		return nil, err
	}
	r := &Receipt{Format: FormatVersion, Type: Type, Created: o.created.UTC().Truncate(time.Second), Tool: o.tool,
		Bucket: s.Bucket(), Endpoint: s.Endpoint(), Prefix: o.prefix, Deep: o.deep,
		TrustedKeys: []string{}, Bundles: []Bundle{}, Images: []Image{}, LeftOut: []LeftOut{}}
	for _, k := range o.trusted {
		r.TrustedKeys = append(r.TrustedKeys, k.ID)
	}
	for _, rec := range records {
		r.Bundles = append(r.Bundles, Bundle{ID: rec.ID, Signer: rec.Signer.ID, Created: rec.Manifest.Created})
	}
	missing := map[string]bool{}
	for _, m := range rep.Missing {
		missing[m.Key] = true
	}
	changed := map[string]audit.Changed{}
	for _, c := range rep.Changed {
		changed[c.Want.Key] = c
	}
	for _, im := range current(records, o.prefix) {
		full := o.prefix + im.Key
		c, isChanged := changed[full]
		switch {
		case missing[full]:
			r.LeftOut = append(r.LeftOut, LeftOut{Image: im, Reason: Missing, Detail: "no object at " + full})
		case isChanged && c.Change == audit.ChangedSHA256 && c.Got.SHA256 == "":
			r.LeftOut = append(r.LeftOut, LeftOut{Image: im, Reason: Unverified,
				Detail: "the object has no recorded sha256 (x-amz-meta-sha256); it was not written by airlock import"})
		case isChanged:
			r.LeftOut = append(r.LeftOut, LeftOut{Image: im, Reason: Drifted, Detail: drift(c)})
		default:
			r.Images = append(r.Images, im)
		}
	}
	r.Members = memberTable(r.Images)
	for i := range r.Images {
		r.Images[i].Members = nil
	}
	for i := range r.LeftOut {
		r.LeftOut[i].Members = nil
	}
	return r, nil
}

// memberTable lists each member of images (in key order) once, at its
// first holder, sorted by name.
func memberTable(images []Image) []HeldMember {
	seen := map[string]bool{}
	var table []HeldMember
	for _, im := range images {
		for _, m := range im.Members {
			if !seen[m.SHA256] {
				seen[m.SHA256] = true
				table = append(table, HeldMember{SHA256: m.SHA256, Key: im.Key, Offset: m.Offset, Length: m.Length})
			}
		}
	}
	slices.SortFunc(table, func(a, b HeldMember) int { return strings.Compare(a.SHA256, b.SHA256) })
	return table
}

func drift(c audit.Changed) string {
	switch c.Change {
	case audit.ChangedSize:
		return fmt.Sprintf("size %d, want %d", c.Got.Size, c.Want.Size)
	case audit.ChangedContent:
		return fmt.Sprintf("data hashes to %s, want %s", c.Got.SHA256, c.Want.SHA256)
	}
	return fmt.Sprintf("recorded sha256 %s, want %s", c.Got.SHA256, c.Want.SHA256)
}

// current is every image entry the records list, the newest record winning
// for a key (as record.Set.Expected decides), in key order.
func current(records []record.Record, prefix string) []Image {
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(a, b record.Record) int { return a.Manifest.Created.Compare(b.Manifest.Created) })
	byKey := map[string]Image{}
	for _, rec := range sorted {
		if rec.Prefix != prefix {
			continue
		}
		sizes := memberSizes(rec.Manifest)
		for _, e := range rec.Manifest.ImageObjects() {
			byKey[e.Image.Key] = Image{Key: e.Image.Key, Digest: e.Image.Digest, Platform: e.Image.Platform,
				Size: e.Size, SHA256: e.SHA256, Bundle: rec.ID, Source: e.Image.Source, Members: tile(e.Members, sizes)}
		}
	}
	out := make([]Image, 0, len(byKey))
	for _, im := range byKey {
		out = append(out, im)
	}
	slices.SortFunc(out, func(a, b Image) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// memberSizes are the sizes of a format 2 manifest's members, carried or
// in its have list.
func memberSizes(m *manifest.Manifest) map[string]int64 {
	sizes := map[string]int64{}
	for name, w := range m.Layout() {
		sizes[name] = w.Size
	}
	return sizes
}

// tile places members one after the other from offset 0.
func tile(members []string, sizes map[string]int64) []Member {
	var out []Member
	var off int64
	for _, name := range members {
		out = append(out, Member{SHA256: name, Offset: off, Length: sizes[name]})
		off += sizes[name]
	}
	return out
}
