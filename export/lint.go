package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
)

// Linted reports one lint finding of Key: Check, Severity, Path (in the
// image, "" for the image as a whole) and Message (what to do). Converted
// and cached images report their findings alike, after their converted or
// cached event; --lint off (or lint=off) reports none.
const Linted EventKind = "lint"

// LintError is an image refused because its lint found warnings and its
// policy is source.LintError. Run returns it, for every refused image,
// before any bundle is written.
type LintError struct {
	Images []LintRefusal
}

// LintRefusal is one refused image and its warnings.
type LintRefusal struct {
	Key, Source, Platform string
	Warnings              []manifest.Finding
}

func (e *LintError) Error() string {
	var b strings.Builder
	for i, r := range e.Images {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s, %s): lint found %d warning(s), refused by lint policy error: ", r.Key, r.Source, r.Platform, len(r.Warnings))
		for j, f := range r.Warnings {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Check)
			if f.Path != "" {
				b.WriteString(" " + findingPath(f.Path))
			}
		}
	}
	b.WriteString(" (no bundle written; fix the image, or export it with --lint warn or lint=warn on its line to ship it as it is)")
	return b.String()
}

func findingPath(p string) string {
	if strings.HasPrefix(p, `"`) {
		return p
	}
	return "/" + p
}

// cacheMeta is what the staging cache records beside a tgz: the
// metadata.json written (its fields at the top level, as before the lint
// existed) and the lint of the flattened image.
type cacheMeta struct {
	concourse.Metadata
	Lint *manifest.Lint `json:"lint,omitempty"`
	// Format 2 (docs/format-v2.md section 9): the tgz's gzip members in
	// order and the size of the tar they hold.
	Members []cachedMember `json:"members,omitempty"`
	TarSize int64          `json:"tar_size,omitempty"`
	// With members in other entries' data files (cachedMember.File), the
	// tgz's size and sha256: the entry's data file holds only its own.
	TGZSize   int64  `json:"tgz_size,omitempty"`
	TGZSHA256 string `json:"tgz_sha256,omitempty"`
}

// errNoLint marks a staging record written before the lint existed.
var errNoLint = errors.New("no lint recorded")

// parseCacheMeta reads a record's meta. A record without a lint (written
// before the lint existed) or with one that fails manifest.Lint.Check is
// not usable: the image is converted again, so every image reports its
// findings and the manifest records them.
func parseCacheMeta(raw []byte) (cacheMeta, error) {
	var m cacheMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return cacheMeta{}, err
	}
	if m.Lint == nil {
		return cacheMeta{}, errNoLint
	}
	if err := m.Lint.Check(); err != nil {
		return cacheMeta{}, fmt.Errorf("lint: %w", err)
	}
	return m, nil
}

// lintRecord turns the converter's lint into what the manifest records:
// paths that are not printable quoted, messages cut to the manifest's
// bound.
func lintRecord(l rootfs.Lint) *manifest.Lint {
	out := &manifest.Lint{Files: l.Files, UncompressedSize: l.Size}
	for _, f := range l.Findings {
		out.Findings = append(out.Findings, manifest.Finding{Check: f.Check, Severity: f.Severity,
			Path: manifest.FindingPath(f.Path), Message: cut(f.Message, manifest.MaxFindingMessage)})
	}
	if len(l.Omitted) > 0 {
		out.Omitted = l.Omitted
	}
	return out
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// lintPolicy is t's policy: its line's lint=, else --lint.
func lintPolicy(t source.Target, o *options) source.LintPolicy {
	if t.Request.Lint != "" {
		return t.Request.Lint
	}
	return o.lint
}

// emitLint reports s's findings as Linted events, unless t's policy is off.
func emitLint(t source.Target, l *manifest.Lint, o *options, emit func(Event)) {
	if l == nil || lintPolicy(t, o) == source.LintOff {
		return
	}
	base := Event{Kind: Linted, Key: t.Key, Source: t.Request.Ref, Digest: t.Digest.String(), Platform: t.Platform.String()}
	for _, f := range l.Findings {
		e := base
		e.Check, e.Severity, e.Path, e.Message = f.Check, f.Severity, f.Path, f.Message
		emit(e)
	}
	for _, c := range slices.Sorted(maps.Keys(l.Omitted)) {
		e := base
		e.Check, e.Severity = c, manifest.SeverityInfo
		e.Message = fmt.Sprintf("%d more findings of this check not listed (the manifest records the first %d)", l.Omitted[c], rootfs.MaxFindingsPerCheck)
		emit(e)
	}
}

// refuseLinted returns a *LintError naming every image whose policy is
// error and whose lint found warnings.
func refuseLinted(targets []source.Target, staged []staged, o *options) error {
	var refused []LintRefusal
	for i, t := range targets {
		l := staged[i].lint
		if l == nil || lintPolicy(t, o) != source.LintError || l.Warnings() == 0 {
			continue
		}
		r := LintRefusal{Key: t.Key, Source: t.Request.Ref, Platform: t.Platform.String()}
		for _, f := range l.Findings {
			if f.Severity == manifest.SeverityWarning {
				r.Warnings = append(r.Warnings, f)
			}
		}
		refused = append(refused, r)
	}
	if len(refused) > 0 {
		return &LintError{Images: refused}
	}
	return nil
}

// manifestLint is what the manifest records of t's lint: nothing when its
// policy is off.
func manifestLint(t source.Target, l *manifest.Lint, o *options) *manifest.Lint {
	if lintPolicy(t, o) == source.LintOff {
		return nil
	}
	return l
}
