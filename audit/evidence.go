package audit

import (
	"fmt"
	"time"

	"github.com/airlockhq/airlock/bucket"
)

// Evidence is the JSON record of an audit: what was checked, when,
// against which keys, and the result ("ok" or "drift").
type Evidence struct {
	CheckedAt  time.Time       `json:"checked_at"`
	Bucket     string          `json:"bucket"`
	Endpoint   string          `json:"endpoint,omitempty"`
	Prefix     string          `json:"prefix,omitempty"`
	Deep       bool            `json:"deep"`
	Keys       []string        `json:"trusted_keys"`
	Bundles    []Bundle        `json:"bundles"`
	Checked    int             `json:"checked"`
	Missing    []bucket.Object `json:"missing"`
	Changed    []ChangeRecord  `json:"changed"`
	Unexpected []bucket.Object `json:"unexpected"`
	Incomplete []UploadRecord  `json:"incomplete_uploads"`
	Result     string          `json:"result"`
}

// Bundle is one audited bundle in the evidence.
type Bundle struct {
	ID      string    `json:"id"`
	Signer  string    `json:"signer"`
	Created time.Time `json:"created"`
}

// ChangeRecord is one changed object in the evidence.
type ChangeRecord struct {
	Key    string `json:"key"`
	Change string `json:"change"`
	Want   string `json:"want"`
	Got    string `json:"got"`
}

// UploadRecord is one incomplete multipart upload in the evidence.
type UploadRecord struct {
	Key       string    `json:"key"`
	UploadID  string    `json:"upload_id"`
	Initiated time.Time `json:"initiated"`
}

// Evidence renders the report as its evidence record. Empty lists stay
// [] in JSON.
func (r *Report) Evidence() Evidence {
	ev := Evidence{CheckedAt: r.CheckedAt, Bucket: r.Bucket, Endpoint: r.Endpoint, Prefix: r.Prefix, Deep: r.Deep,
		Keys: append([]string{}, r.Keys...), Bundles: []Bundle{}, Checked: r.Checked,
		Missing: append([]bucket.Object{}, r.Missing...), Changed: []ChangeRecord{},
		Unexpected: append([]bucket.Object{}, r.Unexpected...), Incomplete: []UploadRecord{}, Result: "ok"}
	for _, rec := range r.Records {
		ev.Bundles = append(ev.Bundles, Bundle{ID: rec.ID, Signer: rec.Signer.ID, Created: rec.Manifest.Created})
	}
	for _, c := range r.Changed {
		ev.Changed = append(ev.Changed, ChangeRecord{Key: c.Want.Key, Change: string(c.Change),
			Want: fmt.Sprintf("%d bytes, sha256 %s", c.Want.Size, c.Want.SHA256),
			Got:  fmt.Sprintf("%d bytes, sha256 %s", c.Got.Size, orDash(c.Got.SHA256))})
	}
	for _, u := range r.Incomplete {
		ev.Incomplete = append(ev.Incomplete, UploadRecord{Key: u.Key, UploadID: u.ID, Initiated: u.Initiated})
	}
	if !r.OK() {
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
