package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateLint(t *testing.T) {
	good := func() *Lint {
		return &Lint{Files: 3, UncompressedSize: 10, Findings: []Finding{
			{Check: "capability", Severity: SeverityWarning, Path: "usr/bin/ping", Message: "dropped"},
			{Check: "size", Severity: SeverityInfo, Message: "large"},
			{Check: "newer-check", Severity: SeverityInfo, Path: FindingPath("a\x01b"), Message: "quoted path"},
		}, Omitted: map[string]int{"setuid": 4}}
	}
	entry := func(l *Lint) Entry {
		e := imageEntry("images/app/app-1.tgz", "app", "1", "app/app-1.tgz", "")
		e.Image.Lint = l
		return e
	}
	for _, l := range []*Lint{nil, good(), {}} {
		m := &Manifest{Format: FormatVersion, Entries: []Entry{entry(l)}}
		if err := m.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	many := good()
	for i := range MaxFindings {
		many.Findings = append(many.Findings, Finding{Check: "setuid", Severity: SeverityInfo, Path: fmt.Sprint("f", i), Message: "m"})
	}
	omitted := good()
	for i := range MaxOmittedChecks + 1 {
		omitted.Omitted[strings.Repeat("a", i+1)] = 1
	}
	bad := map[string]struct {
		edit func(*Lint)
		want string
	}{
		"negative files":     {func(l *Lint) { l.Files = -1 }, "negative"},
		"negative size":      {func(l *Lint) { l.UncompressedSize = -1 }, "negative"},
		"too many findings":  {func(l *Lint) { *l = *many }, "more than 200"},
		"unknown severity":   {func(l *Lint) { l.Findings[0].Severity = "error" }, "severity"},
		"empty check":        {func(l *Lint) { l.Findings[0].Check = "" }, "check"},
		"check with space":   {func(l *Lint) { l.Findings[0].Check = "a b" }, "check"},
		"long check":         {func(l *Lint) { l.Findings[0].Check = strings.Repeat("a", 33) }, "check"},
		"absolute path":      {func(l *Lint) { l.Findings[0].Path = "/etc/passwd" }, "not clean"},
		"climbing path":      {func(l *Lint) { l.Findings[0].Path = "../x" }, "not clean"},
		"unclean path":       {func(l *Lint) { l.Findings[0].Path = "a//b" }, "not clean"},
		"newline in path":    {func(l *Lint) { l.Findings[0].Path = "a\nb" }, "not printable"},
		"escape in message":  {func(l *Lint) { l.Findings[0].Message = "ok\x1b[2Jcleared" }, "not printable"},
		"invalid utf-8":      {func(l *Lint) { l.Findings[0].Message = "\xff" }, "not printable"},
		"empty message":      {func(l *Lint) { l.Findings[0].Message = "" }, "message"},
		"long message":       {func(l *Lint) { l.Findings[0].Message = strings.Repeat("m", MaxFindingMessage+1) }, "message"},
		"long path":          {func(l *Lint) { l.Findings[0].Path = strings.Repeat("p", MaxFindingPath+1) }, "path"},
		"quoted, needs none": {func(l *Lint) { l.Findings[0].Path = `"usr/bin/ping"` }, "not a Go-quoted path"},
		"broken quote":       {func(l *Lint) { l.Findings[0].Path = `"a\x01b` }, "not a Go-quoted path"},
		"negative omitted":   {func(l *Lint) { l.Omitted["setuid"] = -1 }, "negative count"},
		"bad omitted check":  {func(l *Lint) { l.Omitted["Setuid"] = 1 }, "omitted: check"},
		"too many omitted":   {func(l *Lint) { *l = *omitted }, "more than 16"},
	}
	for name, tt := range bad {
		l := good()
		tt.edit(l)
		e := entry(l)
		err := (&Manifest{Format: FormatVersion, Entries: []Entry{e}}).Validate()
		var ee *EntryError
		if !errors.As(err, &ee) || ee.Path != e.Path || !strings.Contains(err.Error(), "image lint") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want an EntryError for %s containing %q", name, err, e.Path, tt.want)
		}
	}
}

func TestFindingString(t *testing.T) {
	for _, tc := range []struct {
		f    Finding
		want string
	}{
		{Finding{Check: "setuid", Path: "usr/bin/sudo", Message: "m"}, "setuid: /usr/bin/sudo: m"},
		{Finding{Check: "size", Message: "m"}, "size: m"},
		{Finding{Check: "owner", Path: FindingPath("a\nb"), Message: "m"}, `owner: "a\nb": m`},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}
