package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/bundle/stripe"
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
	// Ignored lists the files given or found that were left out.
	Ignored []Ignored
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

// Ignored is a file given or found with the parts that a check left out,
// and why: named like a part of the bundle but not listed in its signed
// part index, or a second copy of a part. Nothing of it was used.
type Ignored struct {
	Path   string
	Reason string
}

// FindSet locates the signed part index for the files in args and sorts
// them into the bundle's parts. args may name parts (data or parity) from
// any folders in any order, the part index itself (copies after the first
// and signature files are ignored), or the bundle's base name. One argument
// alone also brings in the other parts beside it.
// The index is the one given, or NAME.parts.sha256 beside the first part
// that has one; its signature is checked against trusted first.
//
// A file named like a part of the bundle that the index does not list is
// left out and reported in PartSet.Ignored, as sha256sum --ignore-missing
// -c leaves it out. When a part is given more than once (the damaged copy
// on a disc and the one airlock repair -o DIR rebuilt), the copy that
// matches the index is used and the others are reported in Ignored; when
// none matches, FindSet fails with a *verify.Error naming every copy.
// FindSet returns nil and no error when there is no part index (a bundle
// written without one; use ResolveParts).
func FindSet(args []string, trusted []keys.Public) (*PartSet, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no bundle given")
	}
	indexPath := ""
	var parts []string
	for _, a := range args {
		n, _ := ParseFileName(a)
		switch n.Kind {
		case KindIndex:
			if indexPath == "" { // copies of the index on every medium: the first one given
				indexPath = a
			}
		case KindData, KindParity:
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
			n, _ := ParseFileName(p)
			if cand := IndexPath(n.Base); exists(cand) {
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
		base := filepath.Join(filepath.Dir(args[0]), x.Base)
		parts = append(globParts(base, KindData), globParts(base, KindParity)...)
	}
	s := &PartSet{Index: x, IndexPath: indexPath, Signer: signer, Paths: make([]string, len(x.Files()))}
	copies := make([][]string, len(x.Files()))
	for _, p := range parts {
		i, ok := x.Lookup(filepath.Base(p))
		if !ok {
			if n, _ := ParseFileName(filepath.Base(p)); n.Base != x.Base {
				return nil, &verify.Error{Part: p, Reason: fmt.Sprintf("does not belong to bundle %s (part index %s); give only that bundle's parts", x.Base, indexPath)}
			}
			s.Ignored = append(s.Ignored, Ignored{Path: p, Reason: fmt.Sprintf(
				"not a part of this bundle: the signed part index %s lists %d data and %d parity part(s), not this one; not read (remove it)", indexPath, len(x.Data), len(x.Parity))})
			continue
		}
		copies[i] = append(copies[i], p)
	}
	for i, c := range copies {
		if s.Paths[i], err = s.pickCopy(i, c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// pickCopy chooses among the copies given of file i: the one copy, or
// the first that has the signed size and SHA-256. The others go to Ignored.
func (s *PartSet) pickCopy(i int, copies []string) (string, error) {
	var distinct []string
	for _, c := range copies {
		if !slices.ContainsFunc(distinct, func(d string) bool { return sameFile(c, d) }) {
			distinct = append(distinct, c)
		}
	}
	switch len(distinct) {
	case 0:
		return "", nil
	case 1:
		return distinct[0], nil
	}
	pick := ""
	var why []string
	bad := map[string]string{}
	for _, c := range distinct {
		s.Paths[i] = c
		err := s.Check(context.Background(), i)
		if err != nil && !verify.IsFailure(err) {
			return "", err
		}
		switch {
		case err == nil && pick == "":
			pick = c
		case err == nil:
			s.Ignored = append(s.Ignored, Ignored{Path: c, Reason: fmt.Sprintf("another good copy of %s; %s is used", s.Name(i), pick)})
		default:
			bad[c] = reasonOf(err)
			why = append(why, c+": "+bad[c])
		}
	}
	if pick == "" {
		return "", &verify.Error{Part: s.Name(i), Reason: fmt.Sprintf(
			"is given %d times and no copy matches the signed part index (%s); remove the damaged copies, copy the part again or run 'airlock repair'", len(distinct), strings.Join(why, "; "))}
	}
	for _, c := range distinct {
		if reason, ok := bad[c]; ok {
			s.Ignored = append(s.Ignored, Ignored{Path: c, Reason: fmt.Sprintf("a damaged copy of %s (%s); the copy that matches the signed part index, %s, is used", s.Name(i), reason, pick)})
		}
	}
	return pick, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
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
	sum, err := stripe.HashFile(ctx, s.Paths[i], s.Index.Files()[i].Size)
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
