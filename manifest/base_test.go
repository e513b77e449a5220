package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func baseManifest(b *Base) *Manifest {
	return &Manifest{Format: FormatVersion, Created: time.Unix(0, 0).UTC(), Signer: "k", Base: b, Entries: []Entry{{
		Path: "images/new/new-1.0.tgz", Size: 3, SHA256: hexA,
		Image: &Image{Name: "new", Version: "1.0", Key: "new/new-1.0.tgz", Platform: "linux/amd64"},
	}}}
}

func goodBase() *Base {
	return &Base{Bucket: "images", Prefix: "ci/", Created: time.Unix(100, 0).UTC(), Signer: "0123456789abcdef",
		Objects: []BaseObject{{Key: "old/old-1.0.tgz", Size: 10, SHA256: hexA}, {Key: "lib/lib-2.0.tgz", Size: 0, SHA256: hexA}}}
}

// A delta's base round-trips through manifest.json; a manifest without one
// (a full bundle, or one written before the field existed) has none.
func TestBaseRoundTrip(t *testing.T) {
	raw, err := baseManifest(goodBase()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"receipt_created": "1970-01-01T00:01:40Z"`) {
		t.Errorf("manifest.json lacks the base's receipt_created:\n%s", raw)
	}
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.Base == nil || len(m.Base.Objects) != 2 || m.Base.Objects[0].Key != "old/old-1.0.tgz" || m.Base.Prefix != "ci/" {
		t.Fatalf("parsed base = %+v", m.Base)
	}
	raw, _ = baseManifest(nil).Marshal()
	if strings.Contains(string(raw), `"base"`) {
		t.Errorf("a full bundle's manifest.json has a base:\n%s", raw)
	}
	if m, err := Parse(raw); err != nil || m.Base != nil {
		t.Fatalf("full bundle: %+v, %v", m, err)
	}
}

// A signed base is input too: its keys reach S3 and pass the same checks as
// an image's key (rules 10 and 11).
func TestBaseRejects(t *testing.T) {
	for name, mod := range map[string]func(b *Base){
		"dot-dot key":         func(b *Base) { b.Objects[0].Key = "../etc/passwd.tgz" },
		"absolute key":        func(b *Base) { b.Objects[0].Key = "/old/old-1.0.tgz" },
		"record area key":     func(b *Base) { b.Objects[0].Key = ".airlock/bundles/x.tgz" },
		"empty key":           func(b *Base) { b.Objects[0].Key = "" },
		"long key":            func(b *Base) { b.Objects[0].Key = strings.Repeat("a/", 600) + "x.tgz" },
		"space in key":        func(b *Base) { b.Objects[0].Key = "old/old 1.tgz" },
		"not a tgz":           func(b *Base) { b.Objects[0].Key = "old/old-1.0.txt" },
		"duplicate key":       func(b *Base) { b.Objects[1].Key = b.Objects[0].Key },
		"key also shipped":    func(b *Base) { b.Objects[0].Key = "new/new-1.0.tgz" },
		"negative size":       func(b *Base) { b.Objects[0].Size = -1 },
		"bad sha256":          func(b *Base) { b.Objects[0].SHA256 = strings.ToUpper(hexA) },
		"prefix without /":    func(b *Base) { b.Prefix = "ci" },
		"prefix dot-dot":      func(b *Base) { b.Prefix = "../" },
		"prefix double slash": func(b *Base) { b.Prefix = "ci//" },
		"empty bucket":        func(b *Base) { b.Bucket = "" },
		"bucket with slash":   func(b *Base) { b.Bucket = "a/b" },
		"bad signer":          func(b *Base) { b.Signer = "not-a-key-id" },
	} {
		t.Run(name, func(t *testing.T) {
			b := goodBase()
			mod(b)
			raw, err := baseManifest(b).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(raw)
			if !errors.As(err, new(*BaseError)) {
				t.Fatalf("Parse = %v, want a *BaseError", err)
			}
		})
	}
	b := goodBase()
	b.Signer, b.Prefix, b.Objects = "", "", nil
	if err := baseManifest(b).Validate(); err != nil {
		t.Fatalf("unsigned receipt, no prefix, no objects: %v", err)
	}
}
