package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// newLintSetup is newSetup with two images: "clean" (root user, nothing to
// find) and "ping" (user 65532, absent from /etc/passwd, and ping with
// cap_net_raw), with the per-line policies given.
func newLintSetup(t *testing.T, cleanPolicy, pingPolicy source.LintPolicy) *setup {
	t.Helper()
	s := newSetup(t, 0)
	reg := imagetest.Registry(t)
	clean := imagetest.Image(t, []imagetest.File{{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\n"}})
	ping := imagetest.Configure(t, imagetest.Image(t, []imagetest.File{
		{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\n"},
		{Name: "bin/ping", Body: "ping", Mode: 0o755, Xattrs: map[string]string{"security.capability": imagetest.PingCapability}},
	}), func(c *v1.Config) { c.User = "65532" })
	imagetest.Push(t, reg+"/team/clean:1.0", clean)
	imagetest.Push(t, reg+"/team/ping:1.0", ping)
	reqs := []source.Request{{Ref: reg + "/team/clean:1.0", Lint: cleanPolicy, Line: 1}, {Ref: reg + "/team/ping:1.0", Lint: pingPolicy, Line: 2}}
	targets, err := source.Resolve(context.Background(), reqs, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		t.Fatal(err)
	}
	s.targets = targets
	return s
}

// lintEvents runs the export and returns its Linted events as
// "key check severity path", with the result.
func (s *setup) lintRun(t *testing.T, out string, opts ...export.Option) ([]string, *export.Result, error) {
	t.Helper()
	var got []string
	opts = append(opts, export.WithEvents(func(e export.Event) {
		if e.Kind == export.Linted {
			got = append(got, e.Key+" "+e.Check+" "+e.Severity+" "+e.Path)
			if e.Platform != "linux/amd64" || e.Source == "" || e.Digest == "" || e.Message == "" {
				t.Errorf("lint event lacks the image, platform or message: %+v", e)
			}
		}
	}))
	res, err := s.run(context.Background(), out, opts...)
	return got, res, err
}

var pingFindings = []string{"ping/ping-1.0.tgz capability warning bin/ping", "ping/ping-1.0.tgz user warning etc/passwd"}

func TestExportLintReportsAndRecords(t *testing.T) {
	s := newLintSetup(t, "", "")
	for _, run := range []string{"converted", "cached"} {
		got, res, err := s.lintRun(t, "b-"+run)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Sort(got); !slices.Equal(got, pingFindings) {
			t.Errorf("%s: lint events %q, want %q", run, got, pingFindings)
		}
		r := openVerified(t, res, s.trusted)
		for _, e := range r.Manifest.Entries {
			l := e.Image.Lint
			if l == nil || l.Files != 2 && l.Files != 1 || l.UncompressedSize == 0 {
				t.Fatalf("%s: %s: lint %+v, want files and size", run, e.Path, l)
			}
			if want := map[string]int{"clean": 0, "ping": 2}[e.Image.Name]; len(l.Findings) != want || l.Warnings() != want {
				t.Errorf("%s: %s: findings %+v, want %d warnings", run, e.Path, l.Findings, want)
			}
		}
	}
}

func TestExportLintPolicy(t *testing.T) {
	for _, tc := range []struct {
		name              string
		flag, clean, ping source.LintPolicy
		refused           bool
		events            []string
		recorded          bool
	}{
		{"default warn", "", "", "", false, pingFindings, true},
		{"error refuses", source.LintError, "", "", true, pingFindings, true},
		{"line error refuses", source.LintWarn, "", source.LintError, true, pingFindings, true},
		{"line warn overrides error", source.LintError, "", source.LintWarn, false, pingFindings, true},
		{"error, only the clean image strict", source.LintWarn, source.LintError, "", false, pingFindings, true},
		{"off", source.LintOff, "", "", false, nil, false},
		{"line off overrides error", source.LintError, "", source.LintOff, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLintSetup(t, tc.clean, tc.ping)
			var opts []export.Option
			if tc.flag != "" {
				opts = append(opts, export.WithLint(tc.flag))
			}
			got, res, err := s.lintRun(t, "b", opts...)
			if slices.Sort(got); !slices.Equal(got, tc.events) {
				t.Errorf("lint events %q, want %q", got, tc.events)
			}
			var le *export.LintError
			if tc.refused {
				if !errors.As(err, &le) || len(le.Images) != 1 || le.Images[0].Key != "ping/ping-1.0.tgz" || len(le.Images[0].Warnings) != 2 {
					t.Fatalf("err = %v, want a LintError for ping", err)
				}
				for _, want := range []string{"ping/ping-1.0.tgz", "linux/amd64", "capability /bin/ping", "user /etc/passwd", "no bundle written", "lint=warn"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				assertNoBundle(t, s.dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range openVerified(t, res, s.trusted).Manifest.Entries {
				if e.Image.Name == "ping" && (e.Image.Lint != nil) != tc.recorded {
					t.Errorf("ping's lint %+v, want recorded %v", e.Image.Lint, tc.recorded)
				}
			}
		})
	}
	s := newLintSetup(t, "", "")
	if _, _, err := s.lintRun(t, "b", export.WithLint("strict")); err == nil || !strings.Contains(err.Error(), `lint policy "strict"`) {
		t.Errorf("bad policy: %v", err)
	}
	assertNoBundle(t, s.dir)
}

// A staging cache record without a lint (written before the lint existed)
// or with one a reader must reject is converted again, so that the
// findings are reported and recorded; the fresh record carries them.
func TestExportLintStagingCache(t *testing.T) {
	for _, edit := range []struct {
		name string
		fn   func(meta map[string]any)
	}{
		{"no lint", func(m map[string]any) { delete(m, "lint") }},
		{"bad lint", func(m map[string]any) { m["lint"] = map[string]any{"files": -1} }},
		{"escape in message", func(m map[string]any) {
			m["lint"].(map[string]any)["findings"].([]any)[0].(map[string]any)["message"] = "\x1b[2J"
		}},
	} {
		t.Run(edit.name, func(t *testing.T) {
			s := newLintSetup(t, "", "")
			if _, _, err := s.lintRun(t, "a"); err != nil {
				t.Fatal(err)
			}
			records, _ := filepath.Glob(filepath.Join(s.cache, "*.json"))
			edited := 0
			for _, p := range records {
				b, _ := os.ReadFile(p)
				var rec map[string]any
				if err := json.Unmarshal(b, &rec); err != nil {
					t.Fatal(err)
				}
				meta := rec["meta"].(map[string]any)
				if meta["user"] != "65532" {
					continue
				}
				edit.fn(meta)
				b, _ = json.Marshal(rec)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				edited++
			}
			if edited != 1 {
				t.Fatalf("edited %d records of %v", edited, records)
			}
			got, res, err := s.lintRun(t, "b")
			if err != nil {
				t.Fatal(err)
			}
			if res.Converted != 1 || res.Cached != 1 {
				t.Errorf("%d converted, %d cached; want the edited one converted again", res.Converted, res.Cached)
			}
			if slices.Sort(got); !slices.Equal(got, pingFindings) {
				t.Errorf("lint events %q, want %q", got, pingFindings)
			}
			if _, res, _ = s.lintRun(t, "c"); res == nil || res.Cached != 2 {
				t.Errorf("third export: %+v, want both cached", res)
			}
		})
	}
}

// The manifest's bounds hold whatever the image holds: an unprintable
// path is quoted and a huge metadata.json user does not make the
// manifest invalid.
func TestExportLintRecordIsValid(t *testing.T) {
	s := newSetup(t, 0)
	reg := imagetest.Registry(t)
	img := imagetest.Configure(t, imagetest.Image(t, []imagetest.File{
		{Name: "bin/a\x1bb", Body: "x", Mode: 0o4755},
	}), func(c *v1.Config) { c.User = strings.Repeat("ü", 3000) })
	imagetest.Push(t, reg+"/team/odd:1.0", img)
	targets, err := source.Resolve(context.Background(), []source.Request{{Ref: reg + "/team/odd:1.0", Line: 1}}, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		t.Fatal(err)
	}
	s.targets = targets
	_, res, err := s.lintRun(t, "b")
	if err != nil {
		t.Fatal(err)
	}
	l := openVerified(t, res, s.trusted).Manifest.Entries[0].Image.Lint
	var paths []string
	for _, f := range l.Findings {
		paths = append(paths, f.Path)
		if len(f.Message) > manifest.MaxFindingMessage {
			t.Errorf("message of %d bytes", len(f.Message))
		}
	}
	if !slices.Equal(paths, []string{`"bin/a\x1bb"`, "etc/passwd"}) {
		t.Errorf("paths %q", paths)
	}
}
