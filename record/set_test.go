package record

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func image(key, content string) manifest.Entry {
	return manifest.Entry{Path: manifest.ImagesFolder + key, Size: int64(len(content)), SHA256: sum(content), Image: &manifest.Image{Key: key}}
}

// Where records list the same key, the newest created wins; of records
// created at once, the one added last; the set keeps one object per key,
// in key order, and a summary of each record.
func TestSetExpectedNewestWins(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	raw := []byte(`{"format":1}`)
	f := &manifest.Freshness{Channel: "prod", Sequence: 2}
	records := []Record{
		{ID: "aaaaaaaaaaaaaaaa", Prefix: "ci/", Signer: keys.Public{ID: "k1"}, Raw: raw, Manifest: &manifest.Manifest{Created: at(2000), Freshness: f,
			Entries: []manifest.Entry{image("b/b.tgz", "new b"), image("a/a.tgz", "a")}}},
		{ID: "bbbbbbbbbbbbbbbb", Prefix: "ci/", Manifest: &manifest.Manifest{Created: at(1000),
			Entries: []manifest.Entry{image("b/b.tgz", "old b"), image("c/c.tgz", "old c"), image("d/d.tgz", "first d")}}},
		{ID: "cccccccccccccccc", Prefix: "ci/", Manifest: &manifest.Manifest{Created: at(1000),
			Entries: []manifest.Entry{image("c/c.tgz", "same-time c"), image("d/d.tgz", "second d")}}},
		{ID: "dddddddddddddddd", Prefix: "ci/", Manifest: &manifest.Manifest{Created: at(500),
			Entries: []manifest.Entry{image("d/d.tgz", "oldest d")}}},
	}
	set, err := NewSet(records)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ci/a/a.tgz": "a", "ci/b/b.tgz": "new b", "ci/c/c.tgz": "same-time c", "ci/d/d.tgz": "second d"}
	got := set.Expected()
	if len(got) != len(want) {
		t.Fatalf("expected %+v, want %d objects", got, len(want))
	}
	for i, o := range got {
		if i > 0 && got[i-1].Key >= o.Key {
			t.Errorf("not in key order: %s before %s", got[i-1].Key, o.Key)
		}
		b := o.Bucket()
		if c, ok := want[o.Key]; !ok || b.SHA256 != sum(c) || b.Size != int64(len(c)) {
			t.Errorf("%s: %+v, want the object of %q", o.Key, b, c)
		}
	}
	if again := set.Expected(); len(again) != len(got) || again[0] != got[0] {
		t.Errorf("a second Expected = %+v, want the same", again)
	}
	s := set.Records[0]
	if set.Len() != 4 || s.ID != records[0].ID || s.Signer.ID != "k1" || !s.Created.Equal(at(2000)) || s.Digest != sum(string(raw)) ||
		s.Freshness == nil || *s.Freshness != *f || s.Freshness == f {
		t.Errorf("summary %+v, want the record's id, signer, created, digest and a copy of its freshness", s)
	}
}

func TestSetRefusesABadSHA256(t *testing.T) {
	e := image("a/a.tgz", "a")
	e.SHA256 = strings.ToUpper(e.SHA256)
	_, err := NewSet([]Record{{ID: "aaaaaaaaaaaaaaaa", Manifest: &manifest.Manifest{Entries: []manifest.Entry{e}}}})
	if err == nil || !strings.Contains(err.Error(), "a/a.tgz") {
		t.Fatalf("NewSet = %v, want an error naming the object", err)
	}
}
