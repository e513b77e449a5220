package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/freshness"
	"github.com/airlockhq/airlock/importer"
	"github.com/airlockhq/airlock/manifest"
)

// importUI renders what an import reports, as exportUI does: importText or
// importJSON, chosen once in newImportUI.
type importUI interface {
	event(e importer.Event)
	close()
	summary(res *importer.Result, store *bucket.Store) error
}

func newImportUI(s streams, asJSON bool, m *manifest.Manifest) importUI {
	entries := map[string]manifest.Entry{}
	for _, e := range m.ImageObjects() {
		entries[e.Path] = e
	}
	if asJSON {
		return importJSON{newEventEncoder(s.out), entries}
	}
	ui := &importText{s: s, bars: newBars(s.err), start: time.Now(), entries: entries}
	ui.total = ui.bars.add("import", uploadSize(m))
	return ui
}

// importJSON writes the events of importEventKinds as JSON lines. A
// failed write fails the summary (eventEncoder.Err).
// A planned event carries the image's lint from the manifest.
type importJSON struct {
	enc     *eventEncoder
	entries map[string]manifest.Entry // image entries by path
}

func (j importJSON) event(e importer.Event) {
	if slices.Contains(importEventKinds, e.Kind) {
		w := newImportEvent(e)
		if e.Kind == importer.Planned {
			if me, ok := j.entries[e.Entry]; ok {
				w.Lint = me.Image.Lint
			}
		}
		_ = j.enc.Encode(w) // kept by j.enc, returned by summary
	}
}

func (j importJSON) close() {}

func (j importJSON) summary(res *importer.Result, store *bucket.Store) error {
	if err := j.enc.Err(); err != nil {
		return err
	}
	return j.enc.Encode(newImportSummary(res, store))
}

// importText shows a bar on a terminal and log lines on stderr.
type importText struct {
	s       streams
	bars    *bars
	total   *bar
	start   time.Time
	entries map[string]manifest.Entry // image entries by path, for their lint
}

func (ui *importText) event(e importer.Event) {
	switch e.Kind {
	case importer.Planned:
		ui.bars.println(ui.s.err, fmt.Sprintf("%-8s %s (%s)", e.Action, e.Key, humanBytes(e.Size)))
		if me, ok := ui.entries[e.Entry]; ok {
			for _, line := range lintLines(me) {
				ui.bars.println(ui.s.err, "lint     "+line)
			}
		}
		if e.Action == importer.Skip {
			ui.total.inc(e.Size)
		}
	case importer.Progress:
		ui.total.inc(e.Bytes)
	case importer.Uploaded:
		ui.bars.println(ui.s.err, fmt.Sprintf("uploaded %s", e.Key))
	case importer.Recorded:
		ui.bars.println(ui.s.err, fmt.Sprintf("recorded the signed manifest at %s", e.Key))
	case importer.Series:
		ui.series(e.Series)
	case importer.BaseMissing:
		ui.bars.println(ui.s.err, fmt.Sprintf("warning: %s, of the base this delta was cut against, is %s in the bucket (--allow-missing-base)", e.Key, e.Reason))
	case importer.Freshness:
		ui.bars.println(ui.s.err, freshnessLine(e.Freshness))
		if e.Reason != "" {
			ui.bars.println(ui.s.err, "warning: "+e.Reason)
		}
	case importer.Accepted:
		if e.Freshness.Status == freshness.Superseded {
			ui.bars.println(ui.s.err, fmt.Sprintf("warning: channel state %s moved to sequence %d while this import ran; it stays there (this bundle, sequence %d, is in place but not the newest)", e.Key, e.Freshness.Stored, e.Freshness.Sequence))
			break
		}
		ui.bars.println(ui.s.err, fmt.Sprintf("channel state %s now names sequence %d", e.Key, e.Freshness.Sequence))
	}
}

// series says what pipelines following an image's series will pick.
func (ui *importText) series(r *importer.SeriesReport) {
	var msg string
	switch {
	case !r.Newest && r.Current == "":
		msg = fmt.Sprintf("%s is not the newest version this bundle brings to series '%s'", r.Version, r.Regexp)
	case r.Current == "":
		msg = fmt.Sprintf("%s is the first version of series '%s'", r.Version, r.Regexp)
	case r.Newest && r.Current == r.Version:
		msg = fmt.Sprintf("%s stays the newest version of series '%s'", r.Version, r.Regexp)
	case r.Newest:
		msg = fmt.Sprintf("%s becomes the newest version of series '%s' (was %s): %s, so they switch to it; %s", r.Version, r.Regexp, r.Current, concourse.FollowEffect, concourse.PinEffect)
	default:
		msg = fmt.Sprintf("%s is not the newest version of series '%s' (the newest in the bucket now: %s): %s, so they do not pick it; only a pin to it uses it", r.Version, r.Regexp, r.Current, concourse.FollowEffect)
	}
	ui.bars.println(ui.s.err, "series   "+msg)
	for _, k := range r.Invalid {
		ui.bars.println(ui.s.err, fmt.Sprintf("airlock: warning: the S3 resource cannot parse the version of %s in series '%s'; it fails for every pipeline following the series until the object is removed", k, r.Regexp))
	}
}

func (ui *importText) close() {
	ui.total.abort()
	ui.bars.wait()
}

func newImportSummary(res *importer.Result, store *bucket.Store) importSummary {
	return importSummary{Event: "done", Bucket: store.Bucket(), Uploaded: res.Uploaded, Skipped: res.Skipped,
		Bytes: res.Bytes, Seconds: res.Elapsed.Seconds(), Record: res.Record}
}

func (ui *importText) summary(res *importer.Result, store *bucket.Store) error {
	sum := newImportSummary(res, store)
	fmt.Fprintf(ui.s.err, "imported into %s: %d uploaded, %d already there; %s in %.1fs (%s/s)\n",
		sum.Bucket, sum.Uploaded, sum.Skipped, humanBytes(sum.Bytes), sum.Seconds,
		humanBytes(int64(float64(sum.Bytes)/max(sum.Seconds, 1e-3))))
	return nil
}
