package manifest

import (
	"errors"
	"strings"
	"testing"
)

func imageEntry(path, name, version, key, re string) Entry {
	return Entry{Path: path, Size: 1, SHA256: hexA, Image: &Image{Name: name, Version: version, Key: key, Regexp: re, Platform: "linux/amd64"}}
}

func TestValidateImages(t *testing.T) {
	good := imageEntry("images/app/app-1.0.tgz", "app", "1.0", "app/app-1.0.tgz", `app/app-(.*)\.tgz`)
	m := &Manifest{Format: FormatVersion, Entries: []Entry{good, {Path: "notes.txt", Size: 1, SHA256: hexA}}}
	if err := m.Validate(); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	bad := map[string]struct {
		e    Entry
		want string
	}{
		"empty key":           {imageEntry("images/app/app-1.tgz", "app", "1", "", ""), "empty key"},
		"dot dot key":         {imageEntry("images/x-1.tgz", "app", "1", "app/../x-1.tgz", ""), "clean relative key"},
		"leading slash":       {imageEntry("images/app/x-1.tgz", "app", "1", "/app/x-1.tgz", ""), "clean relative key"},
		"double slash":        {imageEntry("images/app/x-1.tgz", "app", "1", "app//x-1.tgz", ""), "clean relative key"},
		"dot level":           {imageEntry("images/app/x-1.tgz", "app", "1", "app/./x-1.tgz", ""), "clean relative key"},
		"record area":         {imageEntry("images/.airlock/bundles/x.tgz", "app", "1", ".airlock/bundles/x.tgz", ""), `starting with "."`},
		"hidden level":        {imageEntry("images/app/.x-1.tgz", "app", "1", "app/.x-1.tgz", ""), `starting with "."`},
		"bad character":       {imageEntry("images/app/x-1.tgz", "app", "1", "app/x 1.tgz", ""), "character ' '"},
		"outside its folder":  {imageEntry("images/other/app-1.tgz", "app", "1", "other/app-1.tgz", ""), "not inside the folder app/"},
		"flat key":            {imageEntry("images/app-1.tgz", "app", "1", "app-1.tgz", ""), "not inside the folder app/"},
		"path differs":        {imageEntry("images/app/app-2.tgz", "app", "1", "app/app-1.tgz", ""), "does not match the entry path"},
		"not under images/":   {imageEntry("app/app-1.tgz", "app", "1", "app/app-1.tgz", ""), "does not match the entry path"},
		"unparseable version": {imageEntry("images/app/app-1..2.tgz", "app", "1..2", "app/app-1..2.tgz", ""), "image version"},
		"version with colon":  {imageEntry("images/app/app-1.tgz", "app", "a:1", "app/app-1.tgz", ""), "image version"},
		"version newline":     {imageEntry("images/app/app-1.tgz", "app", "1\nprivileged: true", "app/app-1.tgz", ""), "image version"},
		"bad name":            {imageEntry("images/App/App-1.tgz", "App", "1", "App/App-1.tgz", ""), "image name"},
		"name with quote":     {imageEntry("images/app/app-1.tgz", "a'pp", "1", "app/app-1.tgz", ""), "image name"},
		"regexp misses key":   {imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", `app/other-(.*)\.tgz`), "does not match key"},
		"regexp wrong group":  {imageEntry("images/app1/1/app1.tgz", "app1", "1", "app1/1/app1.tgz", `(.*)1/1/app1\.tgz`), `reads version "app" from key`},
		"unsafe path":         {imageEntry("images/../x", "app", "1", "app/x-1.tgz", ""), "leaves the bundle folder"},
		"regexp no group":     {imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", `app/app-1\.tgz`), "no group"},
		"regexp broken":       {imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", `app/app-(.*\.tgz`), "image regexp"},
	}
	for name, tt := range bad {
		m := &Manifest{Format: FormatVersion, Entries: []Entry{tt.e}}
		err := m.Validate()
		var ee *EntryError
		if !errors.As(err, &ee) || ee.Path != tt.e.Path || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want an EntryError for %s containing %q", name, err, tt.e.Path, tt.want)
		}
	}
	dup := &Manifest{Format: FormatVersion, Entries: []Entry{good, good}}
	dup.Entries[1].Path = "images/app/app-1.0.tgz"
	if err := dup.Validate(); err == nil {
		t.Error("duplicate entry accepted")
	}
}

func TestValidateDuplicateKeys(t *testing.T) {
	// Paths differ only when a key differs, so two equal keys also mean two
	// equal paths; the key check still names both entries when reached
	// through Validate's image rules.
	a := imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", "")
	b := a
	m := &Manifest{Format: FormatVersion, Entries: []Entry{a, b}}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "images/app/app-1.tgz") {
		t.Errorf("duplicate key: %v", err)
	}
}

func TestParseChecksImages(t *testing.T) {
	m := &Manifest{Format: FormatVersion, Entries: []Entry{imageEntry("images/app/app-1.tgz", "app", "1", "", "")}}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(raw)
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Path != "images/app/app-1.tgz" || !strings.Contains(err.Error(), "empty key") {
		t.Errorf("Parse = %v, want an EntryError for images/app/app-1.tgz", err)
	}
}

func TestConcourseImages(t *testing.T) {
	m := &Manifest{Format: FormatVersion, Entries: []Entry{
		imageEntry("images/app1/1/app1.tgz", "app1", "1", "app1/1/app1.tgz", `app1/(.*)/app1\.tgz`),
		imageEntry("images/old/old-2.0.tgz", "old", "2.0", "old/old-2.0.tgz", ""), // written before regexps were recorded
		{Path: "notes.txt", Size: 1, SHA256: hexA},
	}}
	ims, err := m.ConcourseImages()
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 2 || ims[0].Regexp != `app1/(.*)/app1\.tgz` || ims[1].Regexp != `old/old-(.*)\.tgz` {
		t.Errorf("got %+v", ims)
	}
	// Without a recorded regexp, a version that occurs several times in the
	// key cannot be placed: refuse rather than guess.
	m.Entries[0].Image.Regexp = ""
	_, err = m.ConcourseImages()
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Path != "images/app1/1/app1.tgz" || !strings.Contains(err.Error(), "no regexp recorded") {
		t.Errorf("ambiguous old entry: %v", err)
	}
}

func TestValidateCompression(t *testing.T) {
	for _, c := range append([]Compression{""}, Compressions...) {
		e := imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", "")
		e.Image.Compression = c
		if err := (&Manifest{Format: FormatVersion, Entries: []Entry{e}}).Validate(); err != nil {
			t.Errorf("compression %q: %v", c, err)
		}
	}
	hostile := map[string]string{
		"unknown codec":     "zstd",
		"upper case":        "FAST",
		"trailing space":    "fast ",
		"level as text":     "9",
		"negative level":    "-1",
		"out of range":      "10",
		"newline":           "fast\nbest",
		"nul":               "best\x00",
		"long":              strings.Repeat("a", 1<<20),
		"other tool's name": "bestest",
	}
	for name, v := range hostile {
		e := imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", "")
		e.Image.Compression = Compression(v)
		err := (&Manifest{Format: FormatVersion, Entries: []Entry{e}}).Validate()
		var ee *EntryError
		if !errors.As(err, &ee) || ee.Path != e.Path || !strings.Contains(err.Error(), "image compression") ||
			!strings.Contains(err.Error(), "fast, default, best") {
			t.Errorf("%s: Validate = %v, want an EntryError for %s naming the compression and the valid ones", name, err, e.Path)
			continue
		}
		if len(err.Error()) > 300 {
			t.Errorf("%s: error is %d bytes long; a hostile value must be cut short", name, len(err.Error()))
		}
	}
}

func TestParseCompressionField(t *testing.T) {
	doc := func(field string) []byte {
		return []byte(`{"format": 1, "created": "2026-11-01T00:00:00Z", "signer": "k", "entries": [{"path": "images/a/a-1.tgz", "size": 3, "sha256": "` +
			hexA + `", "image": {"name": "a", "version": "1", "key": "a/a-1.tgz", "platform": "linux/amd64"` + field + `}}]}`)
	}
	// Written before the field existed: reads, and means default.
	m, err := Parse(doc(""))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Entries[0].Image.Compression; c != "" || c.OrDefault() != CompressionDefault {
		t.Errorf("absent compression read as %q (or default %q)", c, c.OrDefault())
	}
	m, err = Parse(doc(`, "compression": "best"`))
	if err != nil || m.Entries[0].Image.Compression != CompressionBest {
		t.Fatalf("compression best: %v, %+v", err, m)
	}
	for _, bad := range []string{`, "compression": "gzip-11"`, `, "compression": 9`, `, "compression": {"name": "fast"}`, `, "compression": null, "compression": "x"`} {
		if _, err := Parse(doc(bad)); err == nil || !strings.Contains(err.Error(), "compression") {
			t.Errorf("%s: Parse = %v, want an error naming the compression", bad, err)
		}
	}
}

func TestParseCompressionName(t *testing.T) {
	for _, c := range Compressions {
		if got, err := ParseCompression(string(c)); err != nil || got != c {
			t.Errorf("ParseCompression(%q) = %q, %v", c, got, err)
		}
	}
	if _, err := ParseCompression(""); err == nil {
		t.Error("ParseCompression accepted the empty name")
	}
}
