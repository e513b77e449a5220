package main

import (
	"time"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/importer"
	"github.com/airlockhq/airlock/manifest"
)

// The JSON wire types: every event line and document airlock prints with
// --json, as docs/events.md describes them. The library reports through
// its own event types; the CLI turns them into these, so a field renamed
// in a library package cannot change what scripts read. TestEventsDoc
// holds docs/events.md and wireEvents in step.
//
// The documents the library writes as files (audit.Evidence, the receipt
// of package inventory) are formats of their own packages (docs/events.md,
// docs/receipt.md) and are printed as they are.

// wireEvents names, per command, every event a --json run prints and the
// wire types it is encoded from; "error" ends any failed run.
func wireEvents() map[string]map[string][]any {
	exp := map[string][]any{
		"plan":          {planEvent{}},
		"delta":         {deltaEvent{}},
		"delta_summary": {deltaSummary{}},
		"skipped":       {deltaEvent{}},
		"done":          {exportSummary{}, nothingShipped{}},
	}
	for _, k := range exportEventKinds {
		exp[string(k)] = []any{exportEvent{}}
	}
	imp := map[string][]any{"done": {importSummary{}}}
	for _, k := range importEventKinds {
		imp[string(k)] = []any{importEvent{}}
	}
	return map[string]map[string][]any{"export": exp, "import": imp, "error": {"error": {errorEvent{}}}}
}

// exportEventKinds are the library's export events printed as lines; the
// byte counts (export.Progress, export.Written) are not.
var exportEventKinds = []export.EventKind{export.Warned, export.SignatureChecked, export.Started,
	export.Converted, export.Cached, export.Linted, export.Evicted, export.Writing}

// exportEvent is one step of an export (export.Event).
type exportEvent struct {
	Event   string `json:"event"`
	Key     string `json:"key,omitempty"`
	Source  string `json:"source,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Message string `json:"message,omitempty"`
	// lint only
	Platform string `json:"platform,omitempty"`
	Check    string `json:"check,omitempty"`
	Severity string `json:"severity,omitempty"`
	Path     string `json:"path,omitempty"`
}

func newExportEvent(e export.Event) exportEvent {
	return exportEvent{Event: string(e.Kind), Key: e.Key, Source: e.Source, Digest: e.Digest, Size: e.Size, Total: e.Total, Message: e.Message,
		Platform: e.Platform, Check: e.Check, Severity: e.Severity, Path: e.Path}
}

// importEventKinds are the library's import events printed as lines; the
// byte counts (importer.Progress) are not.
var importEventKinds = []importer.EventKind{importer.BaseMissing, importer.Freshness, importer.Planned, importer.Series, importer.Uploaded, importer.Recorded, importer.Accepted}

// importEvent is one step of an import (importer.Event).
type importEvent struct {
	Event  string                 `json:"event"`
	Key    string                 `json:"key,omitempty"`
	Entry  string                 `json:"entry,omitempty"`
	Action importer.Action        `json:"action,omitempty"`
	Size   int64                  `json:"size,omitempty"`
	Series *importer.SeriesReport `json:"series,omitempty"`
	Lint   *manifest.Lint         `json:"lint,omitempty"`   // planned: the image's lint as the manifest records it
	Reason string                 `json:"reason,omitempty"` // base_missing: missing, or what differs; freshness: a warning
	// freshness, accepted: the verdict on the bundle's freshness
	Freshness *freshness.Verdict `json:"freshness,omitempty"`
}

func newImportEvent(e importer.Event) importEvent {
	return importEvent{Event: string(e.Kind), Key: e.Key, Entry: e.Entry, Action: e.Action, Size: e.Size, Series: e.Series, Reason: e.Reason, Freshness: e.Freshness}
}

// errorEvent is the last line of a failed command run with --json.
type errorEvent struct {
	Event    string `json:"event"` // "error"
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	Hint     string `json:"hint,omitempty"`
}

// planEvent is one image and platform an export --dry-run would export.
type planEvent struct {
	Event       string `json:"event"` // "plan"
	Source      string `json:"source"`
	Platform    string `json:"platform"`
	Digest      string `json:"digest"`
	IndexDigest string `json:"index_digest,omitempty"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Key         string `json:"key"`
	Regexp      string `json:"regexp"`
}

// exportSummary is the done line of an export that wrote a bundle.
type exportSummary struct {
	Event       string               `json:"event"` // "done"
	Bundle      string               `json:"bundle"`
	Files       []string             `json:"files"`
	Extra       []string             `json:"extra,omitempty"` // parity parts, part index and its signature
	Images      int                  `json:"images"`
	Converted   int                  `json:"converted"`
	Cached      int                  `json:"cached"`
	Bytes       int64                `json:"bytes"`
	Seconds     float64              `json:"seconds"`
	Compression manifest.Compression `json:"compression,omitempty"` // the images' compression, as the manifest records it
	Freshness   *manifest.Freshness  `json:"freshness,omitempty"`   // the bundle's channel, sequence, expiry and previous digest
}

// nothingShipped is the done line of an export --have whose images are
// all in the bucket already: no bundle was written.
type nothingShipped struct {
	Event   string  `json:"event"`  // "done"
	Bundle  *string `json:"bundle"` // null
	Images  int     `json:"images"` // 0
	Skipped int     `json:"skipped"`
	Saved   int64   `json:"saved_bytes"`
}

// deltaRow is what export --have decides for one image and platform.
type deltaRow struct {
	Action   string `json:"action"` // ship or skip
	Reason   string `json:"reason"`
	Why      string `json:"why"`
	Source   string `json:"source"`
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	Key      string `json:"key"`
	Size     int64  `json:"size,omitempty"` // a skipped image's tgz size, as the receipt records it
}

// deltaEvent is a deltaRow as a line: "delta" (--dry-run) or "skipped".
type deltaEvent struct {
	Event string `json:"event"`
	deltaRow
}

// deltaSummary is the last line of export --dry-run --have.
type deltaSummary struct {
	Event  string `json:"event"` // "delta_summary"
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	Signed bool   `json:"receipt_signed"`           // a --have-pub key checked the receipt's signature
	Signer string `json:"receipt_signer,omitempty"` // that key; absent when nothing was checked
	Ship   int    `json:"ship"`
	Skip   int    `json:"skip"`
	Saved  int64  `json:"saved_bytes"`
}

// importSummary is the done line of an import.
type importSummary struct {
	Event    string  `json:"event"` // "done"
	Bucket   string  `json:"bucket"`
	Uploaded int     `json:"uploaded"`
	Skipped  int     `json:"skipped"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	Record   string  `json:"record"`
}

// verifyResult is the document verify --json prints.
type verifyResult struct {
	Bundle  string           `json:"bundle"`
	Files   []string         `json:"files"`
	Signer  string           `json:"signer"`
	Created time.Time        `json:"created"`
	Entries []manifest.Entry `json:"entries"`
	Bytes   int64            `json:"bytes"`
	Seconds float64          `json:"seconds"`
	Parts   []partStatus     `json:"parts,omitempty"`
	Ignored []ignoredFile    `json:"ignored,omitempty"`
	// Signatures are the upstream signatures re-checked (--image-signatures).
	Signatures []imageSignature `json:"image_signatures,omitempty"`
	// Freshness is the verdict on the bundle's expiry at the clock (no
	// channel state at hand: import checks the sequence).
	Freshness *freshnessDoc `json:"freshness,omitempty"`
}

// freshnessDoc is a freshness verdict in verify's and inspect's JSON.
type freshnessDoc struct {
	freshness.Verdict
	Previous string `json:"previous,omitempty"`
	Reason   string `json:"reason,omitempty"` // why import would refuse it
}

// partStatus is one file of a split bundle's part index, as verify found it.
type partStatus struct {
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	Status string `json:"status"` // ok, bad, missing
	Error  string `json:"error,omitempty"`
}

func newPartStatuses(parts []bundle.PartStatus) []partStatus {
	var out []partStatus
	for _, p := range parts {
		out = append(out, partStatus{Name: p.Name, Path: p.Path, Status: string(p.State), Error: p.Reason})
	}
	return out
}

// ignoredFile is a file given or found that verify left out, and why.
type ignoredFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func newIgnoredFiles(ignored []bundle.Ignored) []ignoredFile {
	var out []ignoredFile
	for _, ig := range ignored {
		out = append(out, ignoredFile{Path: ig.Path, Reason: ig.Reason})
	}
	return out
}

// imageSignature is one upstream signature re-checked by verify.
type imageSignature struct {
	Key          string   `json:"key"`
	Source       string   `json:"source"`
	SignedDigest string   `json:"signed_digest"`
	Keys         []string `json:"keys"`
	// Identities are the certificate identities that verified; Attestations
	// the predicate types of the carried attestations that verified.
	Identities   []manifest.Identity `json:"identities,omitempty"`
	Attestations []string            `json:"attestations,omitempty"`
}

// inspectResult is the document inspect --json prints.
type inspectResult struct {
	Bundle   string             `json:"bundle"`
	Files    []string           `json:"files"`
	Signer   string             `json:"signer"`
	Manifest *manifest.Manifest `json:"manifest"`
	// Freshness: as in verifyResult.
	Freshness *freshnessDoc `json:"freshness,omitempty"`
}

// versionDoc is the document version --json prints.
type versionDoc struct {
	Schema     int               `json:"schema"`
	Version    string            `json:"version"`
	Commit     string            `json:"commit,omitempty"`
	CommitTime string            `json:"commit_time,omitempty"` // RFC 3339, from the build info
	Modified   *bool             `json:"modified,omitempty"`    // absent when the build info does not say
	GoVersion  string            `json:"go_version"`
	Platform   string            `json:"platform"`
	Build      map[string]string `json:"build"`
	Main       moduleVersion     `json:"main"`
	Deps       []moduleVersion   `json:"dependencies"`
	Formats    formatVersions    `json:"formats"`
}

// moduleVersion is one Go module compiled in (debug.Module).
type moduleVersion struct {
	Path    string         `json:"path"`
	Version string         `json:"version"`
	Sum     string         `json:"sum,omitempty"`
	Replace *moduleVersion `json:"replace,omitempty"`
}

// formatVersions are the versions of the formats airlock reads and writes.
type formatVersions struct {
	Bundle    formatVersion `json:"bundle"`
	PartIndex formatVersion `json:"part_index"`
	Receipt   formatVersion `json:"receipt"`
	Rootfs    int           `json:"rootfs"` // written; readers accept any (docs/format.md)
}

// formatVersion is what one format's readers accept and its writer writes.
type formatVersion struct {
	Reads  []int `json:"reads"`
	Writes int   `json:"writes"`
}
