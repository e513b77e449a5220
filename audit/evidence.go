package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/freshness"
)

// EvidenceSchema is the version of the Evidence JSON (docs/events.md),
// carried in its "schema" field.
const EvidenceSchema = 1

// Evidence is the JSON record of an audit: what was checked, when,
// against which keys, each object checked, and the result ("ok" or
// "drift"). Every list holds objects with the same snake_case fields.
// There is one object per expected object: Report.Evidence leaves Objects
// nil, and WriteJSON writes them from the report one at a time.
type Evidence struct {
	Schema     int             `json:"schema"`
	CheckedAt  time.Time       `json:"checked_at"`
	Bucket     string          `json:"bucket"`
	Endpoint   string          `json:"endpoint,omitempty"`
	Prefix     string          `json:"prefix,omitempty"`
	Deep       bool            `json:"deep"`
	Keys       []string        `json:"trusted_keys"`
	Bundles    []Bundle        `json:"bundles"`
	Checked    int             `json:"checked"`
	Objects    []CheckedRecord `json:"objects"`
	Missing    []ObjectRecord  `json:"missing"`
	Changed    []ChangeRecord  `json:"changed"`
	Unexpected []ObjectRecord  `json:"unexpected"`
	Incomplete []UploadRecord  `json:"incomplete_uploads"`
	// Channels are the channel states found (package freshness); the
	// caller fills them in.
	Channels []ChannelRecord `json:"channels"`
	Result   string          `json:"result"`

	report *Report // whose Objects WriteJSON writes when Objects is nil
}

// ChannelRecord is a channel state in the evidence.
type ChannelRecord struct {
	Key     string           `json:"key"`
	Health  string           `json:"health"` // ok, expired, lagging or tampered
	Problem string           `json:"problem,omitempty"`
	State   *freshness.State `json:"state,omitempty"` // as read; absent when it could not be
}

// ObjectRecord is an object in the evidence: expected (missing) or found
// (unexpected: a listing carries no sha256).
type ObjectRecord struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// CheckedRecord is one expected object the audit checked: "shallow" (size
// and recorded sha256) or "deep" (the data re-hashed), and what it found.
type CheckedRecord struct {
	ObjectRecord
	Check  string `json:"check"`
	Result string `json:"result"` // ok, missing, changed
}

func objectRecord(o bucket.Object) ObjectRecord {
	return ObjectRecord{Key: o.Key, Size: o.Size, SHA256: o.SHA256}
}

// Bundle is one audited bundle in the evidence.
type Bundle struct {
	ID      string    `json:"id"`
	Signer  string    `json:"signer"`
	Created time.Time `json:"created"`
}

// ChangeRecord is one changed object in the evidence: what was expected
// and what was found.
type ChangeRecord struct {
	Key    string      `json:"key"`
	Change string      `json:"change"` // size, recorded sha256, content
	Want   ObjectState `json:"want"`
	Got    ObjectState `json:"got"`
}

// ObjectState is an object's size and sha256 (recorded, or for a content
// change, the hash of its data; "" when none is recorded).
type ObjectState struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// UploadRecord is one incomplete multipart upload in the evidence.
type UploadRecord struct {
	Key       string    `json:"key"`
	UploadID  string    `json:"upload_id"`
	Initiated time.Time `json:"initiated"`
}

// Evidence renders the report as its evidence record, all but its
// objects: Objects is nil, and WriteJSON writes them from the report.
// Empty lists stay [] in JSON.
func (r *Report) Evidence() Evidence {
	ev := Evidence{Schema: EvidenceSchema, CheckedAt: r.CheckedAt, Bucket: r.Bucket, Endpoint: r.Endpoint, Prefix: r.Prefix, Deep: r.Deep,
		Keys: append([]string{}, r.Keys...), Bundles: []Bundle{}, Checked: r.Checked,
		Missing: []ObjectRecord{}, Changed: []ChangeRecord{}, Unexpected: []ObjectRecord{}, Incomplete: []UploadRecord{}, Result: "ok", report: r}
	for _, rec := range r.Records {
		ev.Bundles = append(ev.Bundles, Bundle{ID: rec.ID, Signer: rec.Signer.ID, Created: rec.Created})
	}
	for _, m := range r.Missing {
		ev.Missing = append(ev.Missing, objectRecord(m))
	}
	for _, u := range r.Unexpected {
		ev.Unexpected = append(ev.Unexpected, objectRecord(u))
	}
	for _, c := range r.Changed {
		ev.Changed = append(ev.Changed, ChangeRecord{Key: c.Want.Key, Change: string(c.Change),
			Want: ObjectState{c.Want.Size, c.Want.SHA256}, Got: ObjectState{c.Got.Size, c.Got.SHA256}})
	}
	for _, u := range r.Incomplete {
		ev.Incomplete = append(ev.Incomplete, UploadRecord{Key: u.Key, UploadID: u.ID, Initiated: u.Initiated})
	}
	if !r.OK() {
		ev.Result = "drift"
	}
	return ev
}

// MarshalJSON encodes the evidence with all its objects, as WriteJSON
// writes them, holding them all; WriteJSON does not.
func (ev Evidence) MarshalJSON() ([]byte, error) {
	type plain Evidence // without this method
	p := plain(ev)
	p.Objects = slices.Collect(ev.checkedRecords())
	if p.Objects == nil {
		p.Objects = []CheckedRecord{}
	}
	return json.Marshal(p)
}

// checkedRecords yields the evidence's objects: Objects, or when it is nil
// the report's.
func (ev *Evidence) checkedRecords() iter.Seq[CheckedRecord] {
	if ev.Objects != nil || ev.report == nil {
		return slices.Values(ev.Objects)
	}
	return func(yield func(CheckedRecord) bool) {
		for c := range ev.report.Objects() {
			check := "shallow"
			if c.Deep {
				check = "deep"
			}
			if !yield(CheckedRecord{ObjectRecord: objectRecord(c.Object), Check: check, Result: c.Result}) {
				return
			}
		}
	}
}

// objectsField is where the objects list stands in the indented JSON: a
// top-level field is the only text indented by exactly two spaces after
// a newline (a newline inside a string is escaped).
const objectsField = "\n  \"objects\": ["

// WriteJSON writes the evidence as one JSON object indented by two
// spaces, then a newline, byte for byte as json.Encoder with
// SetIndent("", "  ") writes it with all its objects, but encoding one
// object at a time: the objects of Objects, or when Objects is nil and the
// evidence comes from Report.Evidence, the report's. Memory does not grow
// with the number of objects checked.
func (ev Evidence) WriteJSON(w io.Writer) error {
	objs := ev.checkedRecords()
	ev.Objects = []CheckedRecord{}
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(doc.Bytes(), []byte(objectsField))
	if !ok || !bytes.HasPrefix(tail, []byte("]")) {
		return fmt.Errorf("internal error: no objects field in the evidence JSON")
	}
	bw := bufio.NewWriter(w)
	bw.Write(head) // a write error stays in bw: the next Write returns it
	bw.WriteString(objectsField)
	n := 0
	for c := range objs {
		b, err := json.MarshalIndent(c, "    ", "  ")
		if err != nil {
			return err
		}
		if n++; n > 1 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.Write(tail)
	return bw.Flush()
}
