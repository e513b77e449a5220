package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/verify"
)

// PartSet is the files of one split bundle, located through its signed
// part index. The files may sit in different folders.
type PartSet struct {
	Index     *Index
	IndexPath string
	Signer    keys.Public
	// Paths holds, for each file of Index.Files(), where it was given or
	// found; "" when it is not at hand.
	Paths []string
}

// PartsError is a verification failure of the set of parts as a whole:
// parts missing, of the wrong size or damaged.
type PartsError struct {
	Fail       *verify.Error
	Lost       []string // names of the parts that are missing, short, long or damaged
	Repairable bool     // the parity parts at hand can rebuild them
	Missing    bool     // every lost part is missing (none is damaged)
}

func (e *PartsError) Error() string { return e.Fail.Error() }
func (e *PartsError) Unwrap() error { return e.Fail }

var (
	dataPartRE   = regexp.MustCompile(`^(.+)\.tar\.[0-9]{3}$`)
	parityPartRE = regexp.MustCompile(`^(.+)\.parity\.[0-9]{3}$`)
	indexRE      = regexp.MustCompile(`^(.+)\.parts\.sha256$`)
)

// partBase tells which bundle a file name belongs to, if it is named like a
// part or a part index.
func partBase(name string) (string, bool) {
	for _, re := range []*regexp.Regexp{dataPartRE, parityPartRE, indexRE} {
		if m := re.FindStringSubmatch(name); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// FindSet locates the signed part index for the files in args and sorts
// them into the bundle's parts. args may name parts (data or parity) from
// any folders in any order, the part index itself (copies after the first
// and signature files are ignored), or the bundle's base name. One argument alone also brings in the other parts beside it.
// The index is the one given, or NAME.parts.sha256 beside the first part
// that has one; its signature is checked against trusted first.
// FindSet returns nil and no error when there is no part index (a bundle
// written without one; use ResolveParts).
func FindSet(args []string, trusted []keys.Public) (*PartSet, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no bundle given")
	}
	indexPath := ""
	var parts []string
	for _, a := range args {
		name := filepath.Base(a)
		switch {
		case indexRE.MatchString(name):
			if indexPath == "" { // copies of the index on every medium: the first one given
				indexPath = a
			}
		case dataPartRE.MatchString(name) || parityPartRE.MatchString(name):
			parts = append(parts, a)
		}
	}
	if indexPath == "" && len(parts) == 0 {
		if len(args) > 1 {
			return nil, nil
		}
		// A base name: an index beside it and no unsplit bundle.
		base := BaseName(args[0])
		if _, err := os.Stat(SinglePath(base)); err == nil {
			return nil, nil
		}
		if _, err := os.Stat(IndexPath(base)); err != nil {
			return nil, nil
		}
		indexPath = IndexPath(base)
	}
	if indexPath == "" {
		for _, p := range parts {
			b, _ := partBase(filepath.Base(p))
			if cand := filepath.Join(filepath.Dir(p), filepath.Base(IndexPath(b))); exists(cand) {
				indexPath = cand
				break
			}
		}
		if indexPath == "" {
			return nil, nil
		}
	}
	x, signer, err := LoadIndex(indexPath, trusted)
	if err != nil {
		return nil, err
	}
	if len(args) == 1 {
		dir := filepath.Dir(args[0])
		found, _ := filepath.Glob(filepath.Join(dir, globEscape(x.Base)+".tar.[0-9][0-9][0-9]"))
		parity, _ := filepath.Glob(filepath.Join(dir, globEscape(x.Base)+".parity.[0-9][0-9][0-9]"))
		parts = append(found, parity...)
	}
	s := &PartSet{Index: x, IndexPath: indexPath, Signer: signer, Paths: make([]string, len(x.Files()))}
	for _, p := range parts {
		name := filepath.Base(p)
		i, ok := x.Lookup(name)
		if !ok {
			if b, _ := partBase(name); b != x.Base {
				return nil, &verify.Error{Part: p, Reason: fmt.Sprintf("does not belong to bundle %s (part index %s); give only that bundle's parts", x.Base, indexPath)}
			}
			return nil, &verify.Error{Part: p, Reason: fmt.Sprintf("is a stray file: the signed part index %s lists %d data and %d parity parts, not this one; remove it or leave it out", indexPath, len(x.Data), len(x.Parity))}
		}
		if prev := s.Paths[i]; prev != "" {
			return nil, fmt.Errorf("part %s is given twice (%s and %s); give each part once", name, prev, p)
		}
		s.Paths[i] = p
	}
	return s, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func globEscape(s string) string {
	return strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`).Replace(s)
}

// Name is the file name of position i of Index.Files().
func (s *PartSet) Name(i int) string { return s.Index.Files()[i].Name }

// Missing lists the names of the parts not at hand: data parts, then parity.
func (s *PartSet) Missing() []string {
	var out []string
	for i, p := range s.Paths {
		if p == "" {
			out = append(out, s.Name(i))
		}
	}
	return out
}

// CheckSize compares the size of file i with the size the index implies.
// A missing or wrong-size file is a *verify.Error naming it.
func (s *PartSet) CheckSize(i int) error {
	f := s.Index.Files()[i]
	p := s.Paths[i]
	if p == "" {
		return &verify.Error{Part: f.Name, Reason: "is missing"}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("bundle part %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("bundle part %s is not a regular file", p)
	}
	switch {
	case fi.Size() < f.Size:
		return &verify.Error{Part: p, Reason: fmt.Sprintf("the part is short by %d bytes (%d of %d): truncated", f.Size-fi.Size(), fi.Size(), f.Size)}
	case fi.Size() > f.Size:
		return &verify.Error{Part: p, Reason: fmt.Sprintf("the part is %d bytes longer than the signed part index says (%d, not %d)", fi.Size()-f.Size, fi.Size(), f.Size)}
	}
	return nil
}

// Check checks file i on its own: its size and SHA-256 against the signed
// index. Failures are *verify.Error naming the file.
func (s *PartSet) Check(ctx context.Context, i int) error {
	if err := s.CheckSize(i); err != nil {
		return err
	}
	sum, err := hashFile(ctx, s.Paths[i], s.Index.Files()[i].Size)
	if err != nil {
		return err
	}
	return s.compare(i, sum)
}

// compare checks a computed hash of file i against the index.
func (s *PartSet) compare(i int, got string) error {
	files := s.Index.Files()
	if got == files[i].SHA256 {
		return nil
	}
	for j, f := range files {
		if f.SHA256 == got {
			return &verify.Error{Part: s.Paths[i], Reason: fmt.Sprintf("holds the content of %s, not of %s: renamed; give it its signed name", files[j].Name, files[i].Name)}
		}
	}
	return &verify.Error{Part: s.Paths[i], Reason: "sha256 differs from the signed part index: the part is damaged or belongs to another bundle"}
}

// lostError describes lost parts (given by position) as one PartsError.
func (s *PartSet) lostError(lost []int, reasons []error) *PartsError {
	x := s.Index
	unusable := len(lost)
	for k := range x.Parity {
		if s.Paths[len(x.Data)+k] == "" && !slices.Contains(lost, len(x.Data)+k) {
			unusable++
		}
	}
	e := &PartsError{Fail: &verify.Error{}, Repairable: unusable <= len(x.Parity)}
	var missing []string
	dataMissing := 0
	for k, i := range lost {
		e.Lost = append(e.Lost, s.Name(i))
		if s.Paths[i] == "" {
			missing = append(missing, s.Name(i))
			if i < len(x.Data) {
				dataMissing++
			}
			continue
		}
		if e.Fail.Reason != "" {
			e.Fail.Reason += "; "
		}
		e.Fail.Reason += reasons[k].Error()
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("bundle ends early: %d of %d parts present; %s %s missing", len(x.Data)-dataMissing, len(x.Data), strings.Join(missing, ", "), isAre(len(missing)))
		if dataMissing == 0 {
			msg = fmt.Sprintf("parity %s %s missing", strings.Join(missing, ", "), isAre(len(missing)))
		}
		if e.Fail.Reason != "" {
			msg += "; " + e.Fail.Reason
		}
		e.Fail.Reason = msg
	}
	e.Missing = len(missing) == len(lost)
	if len(lost) == 1 && s.Paths[lost[0]] != "" {
		// a single damaged part: name it as the part at fault
		var ve *verify.Error
		if errors.As(reasons[0], &ve) {
			e.Fail = ve
		}
	}
	return e
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// DataPaths returns the data part files in order when every one is at hand
// with the size the index implies. Otherwise it fails with a *PartsError
// listing what is missing or short.
func (s *PartSet) DataPaths() ([]string, error) {
	var lost []int
	var reasons []error
	for i := range s.Index.Data {
		if err := s.CheckSize(i); err != nil {
			if !verify.IsFailure(err) {
				return nil, err
			}
			lost, reasons = append(lost, i), append(reasons, err)
		}
	}
	if len(lost) > 0 {
		return nil, s.lostError(lost, reasons)
	}
	return append([]string(nil), s.Paths[:len(s.Index.Data)]...), nil
}
