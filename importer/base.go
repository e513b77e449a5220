package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// BaseError is a delta bundle imported where the base it was cut against
// is not: objects of its base (docs/format.md section 5, Delta base) are
// missing from the bucket under the import prefix, or differ. Importing it
// would end with those images missing, so nothing was uploaded. It is a
// verification failure: it wraps a *verify.Error.
type BaseError struct {
	Bucket, Prefix string // where the import was going
	Base           *manifest.Base
	Missing        []bucket.Object
	Changed        []audit.Changed
}

func (e *BaseError) Error() string {
	var list []string
	for _, m := range e.Missing {
		list = append(list, m.Key+" (missing)")
	}
	for _, c := range e.Changed {
		list = append(list, fmt.Sprintf("%s (%s differs: want %d bytes, sha256 %s; found %d bytes, sha256 %s)",
			c.Want.Key, c.Change, c.Want.Size, c.Want.SHA256, c.Got.Size, orNone(c.Got.SHA256)))
	}
	msg := fmt.Sprintf("the bundle is a delta cut against a receipt of bucket %s under prefix %q (checked %s), but bucket %s under prefix %q lacks %d of its %d base object(s): %s",
		e.Base.Bucket, e.Base.Prefix, e.Base.Created.Format("2006-01-02 15:04Z"), e.Bucket, e.Prefix,
		len(list), len(e.Base.Objects), strings.Join(list, ", "))
	if e.Base.Prefix != e.Prefix {
		msg += fmt.Sprintf("; the delta was cut for prefix %q", e.Base.Prefix)
	}
	return msg + "; nothing was uploaded"
}

func (e *BaseError) Unwrap() error {
	return &verify.Error{Entry: manifest.ManifestName, Reason: "the bucket lacks the delta's base"}
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

// checkBase checks, before anything is uploaded, that the bucket holds
// every object of a delta's base under prefix with its recorded size and
// sha256. A bundle without a base needs nothing. When allowed, what is
// missing is reported as BaseMissing events instead of a *BaseError.
func checkBase(ctx context.Context, s *bucket.Store, m *manifest.Manifest, o options) error {
	b := m.Base
	if b == nil || len(b.Objects) == 0 {
		return nil
	}
	want := make([]bucket.Object, len(b.Objects))
	for i, obj := range b.Objects {
		want[i] = bucket.Object{Key: o.prefix + obj.Key, Size: obj.Size, SHA256: obj.SHA256}
	}
	missing, changed, err := audit.Present(ctx, s, want)
	if err != nil || len(missing)+len(changed) == 0 {
		return err
	}
	if !o.allowMissingBase {
		return &BaseError{Bucket: s.Bucket(), Prefix: o.prefix, Base: b, Missing: missing, Changed: changed}
	}
	for _, m := range missing {
		o.events(Event{Kind: BaseMissing, Key: m.Key, Reason: "missing"})
	}
	for _, c := range changed {
		o.events(Event{Kind: BaseMissing, Key: c.Want.Key, Reason: string(c.Change) + " differs"})
	}
	return nil
}
