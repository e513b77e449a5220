package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/record"
)

// plain is Evidence without its methods: what encoding/json writes for it
// with every object held, the reference WriteJSON must match.
type plain Evidence

func encodeIndented(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// driftReport is a report of n expected objects: the first missing, the
// second changed, the others ok; keys with characters encoding/json
// escapes.
func driftReport(n int, deep bool) *Report {
	r := &Report{CheckedAt: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Bucket: "b", Endpoint: "http://127.0.0.1:9000",
		Prefix: "ci/", Deep: deep, Keys: []string{"0123456789abcdef"}, Checked: n}
	for i := range n {
		o := record.Object{Key: fmt.Sprintf("ci/a&<%05d>/x.tgz", i), Size: int64(i)}
		o.SHA256[31] = byte(i)
		r.want = append(r.want, o)
	}
	if n > 0 {
		r.Missing = []bucket.Object{r.want[0].Bucket()}
	}
	if n > 1 {
		r.Changed = []Changed{{Want: r.want[1].Bucket(), Got: bucket.Object{Key: r.want[1].Key, Size: 7}, Change: ChangedSize}}
	}
	r.Unexpected = []bucket.Object{{Key: "ci/\u2028rogue\"/r.tgz", Size: 3}}
	return r
}

// WriteJSON writes, one object at a time, exactly what encoding/json
// writes for the evidence with all its objects; MarshalJSON encodes them
// all as well.
func TestEvidenceWriteJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		deep    bool
		results []string
	}{
		{"none", 0, false, nil},
		{"one", 1, true, []string{"missing shallow"}},
		{"many shallow", 5, false, []string{"missing shallow", "changed shallow", "ok shallow", "ok shallow", "ok shallow"}},
		{"many deep", 5, true, []string{"missing shallow", "changed shallow", "ok deep", "ok deep", "ok deep"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := driftReport(tc.n, tc.deep)
			ev := rep.Evidence()
			ev.Channels = []ChannelRecord{{Key: "ci/.airlock/state/k/c.json", Health: "expired", Problem: "expired <then> & now"}}
			if ev.Objects != nil {
				t.Fatalf("Evidence().Objects = %+v, want nil (written by WriteJSON)", ev.Objects)
			}
			full := plain(ev)
			full.Objects = []CheckedRecord{}
			for i, w := range rep.want {
				var res, check string
				fmt.Sscan(tc.results[i], &res, &check)
				full.Objects = append(full.Objects, CheckedRecord{ObjectRecord: objectRecord(w.Bucket()), Check: check, Result: res})
			}
			want := encodeIndented(t, full)

			var got bytes.Buffer
			if err := ev.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("WriteJSON wrote\n%s\nwant\n%s", got.Bytes(), want)
			}
			if got := encodeIndented(t, ev); !bytes.Equal(got, want) {
				t.Errorf("encoding/json (MarshalJSON) wrote\n%s\nwant\n%s", got, want)
			}
			// Objects given are written as given.
			given := Evidence(full)
			got.Reset()
			if err := given.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("WriteJSON of given objects wrote\n%s\nwant\n%s", got.Bytes(), want)
			}
			var back Evidence
			if err := json.Unmarshal(want, &back); err != nil || len(back.Objects) != tc.n || !slices.Equal(back.Objects, full.Objects) {
				t.Errorf("the evidence reads back with objects %+v (%v), want %+v", back.Objects, err, full.Objects)
			}
		})
	}
}

// An evidence built by hand, without objects, lists none.
func TestEvidenceWriteJSONEmpty(t *testing.T) {
	var got bytes.Buffer
	if err := (Evidence{}).WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got.Bytes(), []byte("\n  \"objects\": [],\n")) {
		t.Errorf("WriteJSON of an empty evidence wrote\n%s\nwant \"objects\": []", got.Bytes())
	}
}

type failingWriter struct{ writes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("disk full")
}

// A write that fails stops WriteJSON with its error, before it encodes
// every object.
func TestEvidenceWriteJSONFails(t *testing.T) {
	w := &failingWriter{}
	if err := driftReport(1000, false).Evidence().WriteJSON(w); err == nil || err.Error() != "disk full" {
		t.Errorf("WriteJSON to a failing writer = %v, want its error", err)
	}
	if w.writes != 1 {
		t.Errorf("WriteJSON wrote %d times to a failing writer, want once", w.writes)
	}
}
