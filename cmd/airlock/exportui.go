package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/manifest"
)

// exportUI renders what an export reports: exportText (bars on a
// terminal, log lines on stderr otherwise) or exportJSON (event lines on
// stdout with --json). One is chosen once, in newExportUI.
type exportUI interface {
	warn(msg string)
	event(e export.Event)
	close()
	summary(r *export.Result) error
}

func newExportUI(s streams, asJSON bool, images int) exportUI {
	if asJSON {
		return exportJSON{newEventEncoder(s.out)}
	}
	ui := &exportText{s: s, bars: newBars(s.err), images: map[string]*bar{}, started: map[string]time.Time{}}
	ui.overall = ui.bars.addCount("images", int64(images))
	return ui
}

// exportJSON writes the events of exportEventKinds as JSON lines. A
// failed write fails the summary (eventEncoder.Err).
type exportJSON struct{ enc *eventEncoder }

func (j exportJSON) warn(msg string) { j.event(export.Event{Kind: export.Warned, Message: msg}) }

func (j exportJSON) event(e export.Event) {
	if slices.Contains(exportEventKinds, e.Kind) {
		_ = j.enc.Encode(newExportEvent(e)) // kept by j.enc, returned by summary
	}
}

func (j exportJSON) close() {}

func (j exportJSON) summary(r *export.Result) error {
	if err := j.enc.Err(); err != nil {
		return err
	}
	return j.enc.Encode(newExportSummary(r))
}

// exportText shows bars on a terminal and log lines on stderr.
type exportText struct {
	s       streams
	bars    *bars
	images  map[string]*bar
	started map[string]time.Time
	overall *bar
	write   *bar
}

func (ui *exportText) warn(msg string) { fmt.Fprintf(ui.s.err, "airlock: warning: %s\n", msg) }

func (ui *exportText) event(e export.Event) {
	switch e.Kind {
	case export.Warned:
		ui.log("airlock: warning: %s", e.Message)
	case export.SignatureChecked:
		ui.log("verified   %s (%s): %s", e.Key, e.Source, e.Message)
	case export.Started:
		ui.started[e.Key] = time.Now()
		ui.images[e.Key] = ui.bars.add(e.Key, 0)
		ui.log("converting %s (%s)", e.Key, e.Source)
	case export.Progress:
		ui.images[e.Key].inc(e.Bytes)
	case export.Converted:
		ui.images[e.Key].abort()
		ui.overall.inc(1)
		ui.log("converted  %s: %s in %s", e.Key, humanBytes(e.Size), time.Since(ui.started[e.Key]).Round(time.Millisecond))
	case export.Cached:
		ui.overall.inc(1)
		ui.log("cached     %s: %s", e.Key, humanBytes(e.Size))
	case export.Linted:
		ui.log("%s", lintLine(e))
	case export.Evicted:
		ui.log("airlock: warning: %s", e.Message)
	case export.Writing:
		ui.write.abort() // a bundle written again after an eviction
		ui.write = ui.bars.add("bundle", e.Total)
		if e.Total == 0 {
			ui.log("writing bundle while the images convert")
		} else {
			ui.log("writing bundle: %s of images", humanBytes(e.Total))
		}
	case export.Written:
		ui.write.inc(e.Bytes)
	}
}

// lintLine renders a lint finding: warnings as warnings, the rest as notes.
func lintLine(e export.Event) string {
	f := manifest.Finding{Check: e.Check, Path: e.Path, Message: e.Message}
	lead := "airlock: note: "
	if e.Severity == manifest.SeverityWarning {
		lead = "airlock: warning: "
	}
	return fmt.Sprintf("%s%s (%s, %s): %s", lead, e.Key, e.Source, e.Platform, f)
}

func (ui *exportText) log(format string, args ...any) {
	ui.bars.println(ui.s.err, fmt.Sprintf(format, args...))
}

func (ui *exportText) close() {
	ui.overall.abort()
	ui.write.abort()
	ui.bars.wait()
}

func newExportSummary(r *export.Result) exportSummary {
	images, compression := 0, manifest.Compression("")
	for _, e := range r.Bundle.Manifest.ImageObjects() {
		if e.Image != nil {
			images, compression = images+1, e.Image.Compression // one export, one compression
		}
	}
	return exportSummary{Event: "done", Bundle: r.Bundle.ID, Files: r.Bundle.Files, Extra: r.Bundle.Extra, Images: images, Compression: compression,
		Converted: r.Converted, Cached: r.Cached, Bytes: r.Bundle.Bytes, Seconds: r.Elapsed.Seconds(), Freshness: r.Bundle.Manifest.Freshness}
}

func (ui *exportText) summary(r *export.Result) error {
	sum := newExportSummary(r)
	for _, f := range append(sum.Files, sum.Extra...) {
		fmt.Fprintln(ui.s.out, f)
	}
	fmt.Fprintf(ui.s.err, "exported %d images (%d converted, %d cached) into bundle %s: %s in %d file(s), %.1fs, compression %s\n",
		sum.Images, sum.Converted, sum.Cached, sum.Bundle, humanBytes(sum.Bytes), len(sum.Files), sum.Seconds, sum.Compression.OrDefault())
	if f := sum.Freshness; f != nil {
		fmt.Fprintf(ui.s.err, "channel %s, sequence %d, expires %s (import refuses it after that)\n", f.Channel, f.Sequence, f.Expires.Format(time.RFC3339))
	}
	return nil
}
