package main

import (
	"fmt"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/importer"
)

// importUI renders what an import reports, as exportUI does: importText or
// importJSON, chosen once in newImportUI.
type importUI interface {
	event(e importer.Event)
	close()
	summary(res *importer.Result, store *bucket.Store) error
}

func newImportUI(s streams, asJSON bool, total int64) importUI {
	if asJSON {
		return importJSON{newEventEncoder(s.out)}
	}
	ui := &importText{s: s, bars: newBars(s.err), start: time.Now()}
	ui.total = ui.bars.add("import", total)
	return ui
}

// importJSON writes every event but the byte counts as a JSON line.
type importJSON struct{ enc *eventEncoder }

func (j importJSON) event(e importer.Event) {
	if e.Kind != importer.Progress {
		j.enc.Encode(e)
	}
}

func (j importJSON) close() {}

func (j importJSON) summary(res *importer.Result, store *bucket.Store) error {
	return j.enc.Encode(newImportSummary(res, store))
}

// importText shows a bar on a terminal and log lines on stderr.
type importText struct {
	s     streams
	bars  *bars
	total *bar
	start time.Time
}

func (ui *importText) event(e importer.Event) {
	switch e.Kind {
	case importer.Planned:
		ui.bars.println(ui.s.err, fmt.Sprintf("%-8s %s (%s)", e.Action, e.Key, humanBytes(e.Size)))
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
		msg = fmt.Sprintf("%s becomes the newest version of series '%s': pipelines that do not pin a version switch to it from %s", r.Version, r.Regexp, r.Current)
	default:
		msg = fmt.Sprintf("%s is not the newest version of series '%s' (the newest in the bucket now: %s): pipelines that do not pin a version do not pick it", r.Version, r.Regexp, r.Current)
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

type importSummary struct {
	Event    string  `json:"event"`
	Bucket   string  `json:"bucket"`
	Uploaded int     `json:"uploaded"`
	Skipped  int     `json:"skipped"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	Record   string  `json:"record"`
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
