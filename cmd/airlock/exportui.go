package main

import (
	"fmt"
	"time"

	"github.com/airlockhq/airlock/export"
)

// exportUI renders export events: bars on a terminal, log lines on stderr
// otherwise, or JSON lines on stdout with --json.
type exportUI struct {
	s       streams
	json    *eventEncoder
	bars    *bars
	images  map[string]*bar
	started map[string]time.Time
	overall *bar
	write   *bar
}

func newExportUI(s streams, asJSON bool, images int) *exportUI {
	ui := &exportUI{s: s, bars: newBars(s.err), images: map[string]*bar{}, started: map[string]time.Time{}}
	if asJSON {
		ui.json = newEventEncoder(s.out)
		ui.bars = &bars{}
	}
	ui.overall = ui.bars.addCount("images", int64(images))
	return ui
}

func (ui *exportUI) warn(msg string) {
	if ui.json != nil {
		ui.json.Encode(export.Event{Kind: export.Warned, Message: msg})
		return
	}
	fmt.Fprintf(ui.s.err, "airlock: warning: %s\n", msg)
}

func (ui *exportUI) event(e export.Event) {
	if ui.json != nil {
		if e.Kind != export.Progress && e.Kind != export.Written {
			ui.json.Encode(e)
		}
		return
	}
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
	case export.Evicted:
		ui.log("airlock: warning: %s", e.Message)
	case export.Writing:
		ui.write.abort() // a bundle written again after an eviction
		ui.write = ui.bars.add("bundle", e.Total)
		ui.log("writing bundle: %s of images", humanBytes(e.Total))
	case export.Written:
		ui.write.inc(e.Bytes)
	}
}

func (ui *exportUI) log(format string, args ...any) {
	ui.bars.println(ui.s.err, fmt.Sprintf(format, args...))
}

func (ui *exportUI) close() {
	ui.overall.abort()
	ui.write.abort()
	ui.bars.wait()
}

type exportSummary struct {
	Event     string   `json:"event"`
	Bundle    string   `json:"bundle"`
	Files     []string `json:"files"`
	Extra     []string `json:"extra,omitempty"` // parity parts, part index and its signature
	Images    int      `json:"images"`
	Converted int      `json:"converted"`
	Cached    int      `json:"cached"`
	Bytes     int64    `json:"bytes"`
	Seconds   float64  `json:"seconds"`
}

func (ui *exportUI) summary(r *export.Result) error {
	images := 0
	for _, e := range r.Bundle.Manifest.Entries {
		if e.Image != nil {
			images++
		}
	}
	sum := exportSummary{Event: "done", Bundle: r.Bundle.ID, Files: r.Bundle.Files, Extra: r.Bundle.Extra, Images: images,
		Converted: r.Converted, Cached: r.Cached, Bytes: r.Bundle.Bytes, Seconds: r.Elapsed.Seconds()}
	if ui.json != nil {
		return ui.json.Encode(sum)
	}
	for _, f := range append(sum.Files, sum.Extra...) {
		fmt.Fprintln(ui.s.out, f)
	}
	fmt.Fprintf(ui.s.err, "exported %d images (%d converted, %d cached) into bundle %s: %s in %d file(s), %.1fs\n",
		sum.Images, sum.Converted, sum.Cached, sum.Bundle, humanBytes(sum.Bytes), len(sum.Files), sum.Seconds)
	return nil
}
