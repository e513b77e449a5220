package manifest

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lint is what the exporter's lint found in an image that fails or
// misbehaves in Concourse, with the image's file count and unpacked size
// (docs/format.md section 5, "Lint"). An image without one was not checked.
type Lint struct {
	Files            int64          `json:"files"`
	UncompressedSize int64          `json:"uncompressed_size"`
	Findings         []Finding      `json:"findings,omitempty"`
	Omitted          map[string]int `json:"omitted,omitempty"` // findings left out, per check
}

// Finding is one finding of a Lint.
type Finding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`       // SeverityInfo or SeverityWarning
	Path     string `json:"path,omitempty"` // in the image, relative to its root; empty for the whole image
	Message  string `json:"message"`        // what is wrong and what to do
}

// Severities a finding may have.
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
)

// Bounds of a Lint a reader accepts.
const (
	MaxFindings       = 200
	MaxOmittedChecks  = 16
	MaxFindingPath    = 4096
	MaxFindingMessage = 2048
	maxCheckName      = 32
)

// Warnings counts the findings of severity warning.
func (l *Lint) Warnings() int {
	n := 0
	for _, f := range l.Findings {
		if f.Severity == SeverityWarning {
			n++
		}
	}
	return n
}

// String renders a finding on one line: "check: /path: message".
func (f Finding) String() string {
	if f.Path == "" {
		return f.Check + ": " + f.Message
	}
	p := f.Path
	if !strings.HasPrefix(p, `"`) {
		p = "/" + p
	}
	return f.Check + ": " + p + ": " + f.Message
}

// FindingPath is how a path in an image is recorded in a Finding: as it
// is when it is printable UTF-8, else Go-quoted.
func FindingPath(p string) string {
	if printable(p) {
		return p
	}
	return fmt.Sprintf("%+q", p)
}

// Check checks l as a reader must before showing it (docs/format.md
// section 5, "Lint").
func (l *Lint) Check() error {
	if l.Files < 0 || l.UncompressedSize < 0 {
		return errors.New("negative file count or size")
	}
	if len(l.Findings) > MaxFindings {
		return fmt.Errorf("%d findings, more than %d", len(l.Findings), MaxFindings)
	}
	for i, f := range l.Findings {
		if err := f.check(); err != nil {
			return fmt.Errorf("finding %d: %w", i+1, err)
		}
	}
	if len(l.Omitted) > MaxOmittedChecks {
		return fmt.Errorf("omitted counts for %d checks, more than %d", len(l.Omitted), MaxOmittedChecks)
	}
	for c, n := range l.Omitted {
		if err := checkName(c); err != nil {
			return fmt.Errorf("omitted: %w", err)
		}
		if n < 0 {
			return fmt.Errorf("omitted: negative count for %s", c)
		}
	}
	return nil
}

func (f Finding) check() error {
	if err := checkName(f.Check); err != nil {
		return err
	}
	if f.Severity != SeverityInfo && f.Severity != SeverityWarning {
		return fmt.Errorf("severity %s, want %s or %s", quoteShort(f.Severity), SeverityInfo, SeverityWarning)
	}
	if len(f.Path) > MaxFindingPath || !printable(f.Path) {
		return fmt.Errorf("path %s is longer than %d bytes or not printable UTF-8", quoteShort(f.Path), MaxFindingPath)
	}
	p := f.Path
	if strings.HasPrefix(p, `"`) {
		raw, err := strconv.Unquote(p)
		if err != nil || FindingPath(raw) != p {
			return fmt.Errorf("path %s is not a Go-quoted path that needs quoting", quoteShort(p))
		}
	} else if p != "" && (path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../")) {
		return fmt.Errorf("path %s is not clean and relative to the image root", quoteShort(p))
	}
	if f.Message == "" || len(f.Message) > MaxFindingMessage || !printable(f.Message) {
		return fmt.Errorf("message %s is empty, longer than %d bytes or not printable UTF-8", quoteShort(f.Message), MaxFindingMessage)
	}
	return nil
}

// checkName checks a check's name: 1-32 of a-z and -, starting with a letter.
func checkName(c string) error {
	ok := c != "" && len(c) <= maxCheckName && c[0] >= 'a' && c[0] <= 'z'
	for i := 0; ok && i < len(c); i++ {
		ok = c[i] >= 'a' && c[i] <= 'z' || c[i] == '-'
	}
	if !ok {
		return fmt.Errorf("check %s is not 1-%d of a-z and -, starting with a letter", quoteShort(c), maxCheckName)
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
