package main

import (
	"bufio"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/audit"
)

// docTables reads the tables of docs/events.md: for each "###" (or "##")
// heading, the first cell of every row mapped to the names in backticks of
// its second cell (the event's fields) when the first column is "event",
// or the names in backticks of the first cell when it is "field".
func docTables(t *testing.T) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := map[string]map[string][]string{}
	heading, kind := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			heading, kind = strings.TrimSpace(strings.TrimLeft(line, "#")), ""
			continue
		}
		if !strings.HasPrefix(line, "|") {
			kind = ""
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case kind == "" && (cells[0] == "event" || cells[0] == "field"):
			kind = cells[0]
			continue
		case strings.HasPrefix(cells[0], "---"):
			continue
		}
		if tables[heading] == nil {
			tables[heading] = map[string][]string{}
		}
		switch kind {
		case "event":
			tables[heading][strings.Trim(cells[0], "`")] = splitNames(cells[1])
		case "field":
			for _, n := range splitNames(cells[0]) {
				if strings.HasPrefix(cells[1], "[{") { // a list of objects: their fields
					tables[heading][n] = splitNames(strings.Trim(cells[1], "[]{}"))
				} else {
					tables[heading][n] = nil
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// splitNames reads "`a, b?`" or "`a`, `b`" as [a b].
func splitNames(cell string) []string {
	var names []string
	for _, n := range strings.Split(strings.ReplaceAll(cell, "`", ""), ",") {
		if n = strings.TrimSuffix(strings.TrimSpace(n), "?"); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// jsonFields lists the top-level JSON names v encodes, "event" aside.
func jsonFields(v any) []string {
	var names []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			switch {
			case f.Anonymous && tag == "":
				walk(f.Type)
			case tag == "-" || tag == "event" || !f.IsExported():
			case tag == "":
				names = append(names, f.Name)
			default:
				names = append(names, tag)
			}
		}
	}
	walk(reflect.TypeOf(v))
	sort.Strings(names)
	return names
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestEventsDoc holds docs/events.md and the wire types in step: every
// event a command prints is listed, every event listed is printed, and the
// fields listed are the fields the types encode.
func TestEventsDoc(t *testing.T) {
	doc := docTables(t)
	shared := map[reflect.Type]bool{reflect.TypeOf(exportEvent{}): true, reflect.TypeOf(importEvent{}): true}
	for _, cmd := range []string{"export", "import"} {
		wire := wireEvents()[cmd]
		if got, want := sortedKeys(doc[cmd]), sortedKeys(wire); !slices.Equal(got, want) {
			t.Errorf("docs/events.md lists the %s events %v; airlock prints %v", cmd, got, want)
		}
		for name, types := range wire {
			var fields []string
			exact := true
			for _, v := range types {
				fields = append(fields, jsonFields(v)...)
				exact = exact && !shared[reflect.TypeOf(v)]
			}
			for _, f := range doc[cmd][name] {
				if !slices.Contains(fields, f) {
					t.Errorf("docs/events.md: %s event %q lists field %q, which %T does not have", cmd, name, f, types[0])
				}
			}
			for _, f := range fields {
				if exact && !slices.Contains(doc[cmd][name], f) {
					t.Errorf("docs/events.md: %s event %q does not list field %q", cmd, name, f)
				}
			}
		}
	}
	docs := map[string]any{
		"error (every command with `--json`)":                   wireEvents()["error"]["error"][0],
		"verify --json":                                         verifyResult{},
		"inspect --json":                                        inspectResult{},
		"Documents: `version --json`":                           versionDoc{},
		"Documents: `audit --json` and `audit --evidence FILE`": audit.Evidence{},
	}
	for _, sub := range []struct {
		heading, field string
		v              any
	}{
		{"verify --json", "parts", partStatus{}},
		{"verify --json", "image_signatures", imageSignature{}},
		{"Documents: `version --json`", "dependencies", moduleVersion{}},
	} {
		if got, want := sortedStrings(doc[sub.heading][sub.field]), jsonFields(sub.v); !slices.Equal(got, want) {
			t.Errorf("docs/events.md, %s: %s lists the fields %v; %T has %v", sub.heading, sub.field, got, sub.v, want)
		}
	}
	for heading, v := range docs {
		if got, want := sortedKeys(doc[heading]), jsonFields(v); !slices.Equal(got, want) {
			t.Errorf("docs/events.md, %q lists the fields %v; %T has %v", heading, got, v, want)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, os.ErrClosed
}

// A JSON line that cannot be written fails the run at its summary, and
// nothing more is written after it.
func TestEventWriteErrorFailsSummary(t *testing.T) {
	w := &failWriter{}
	ui := exportJSON{newEventEncoder(w)}
	ui.warn("one")
	ui.warn("two")
	err := ui.summary(nil)
	if err == nil || !strings.Contains(err.Error(), "writing the JSON output") {
		t.Fatalf("summary after a failed write: %v, want the write error", err)
	}
	if w.n != 1 {
		t.Errorf("%d writes after the first failed, want none", w.n-1)
	}
}
