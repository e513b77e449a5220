package bundle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/airlockhq/airlock/verify"
)

// Kinds of *verify.Error (errors.Is) whose message already says what to
// do: there is nothing a repair or another folder would fix.
var (
	// ErrNothingAtHand: only a part index was given or found, no part.
	ErrNothingAtHand = errors.New("no part at hand")
	// ErrNoIndex: a check that needs the signed part index found none.
	ErrNoIndex = errors.New("no part index")
)

// PartState is the verdict on one file of a part set.
type PartState string

// The states CheckAll reports.
const (
	PartOK      PartState = "ok"
	PartBad     PartState = "bad"
	PartMissing PartState = "missing"
)

// PartStatus is the check of one file of a part set.
type PartStatus struct {
	Name   string
	Path   string
	State  PartState
	Reason string // why it is bad
}

// CheckOptions tells CheckAll what the caller has already done and wants.
type CheckOptions struct {
	// Partial accepts missing parts (one medium as it arrives); without
	// it, a missing data part fails the check.
	Partial bool
	// Streamed says the data parts were checked as a Reader's stream left
	// them: they are reported without being read again.
	Streamed bool
	// Each, when set, is called with each file's status as it is known.
	Each func(PartStatus)
}

// CheckAll checks every file of the set on its own against the signed
// index, in index order, and returns their statuses with the verdict:
// nil, or a *verify.Error naming the bad parts; a *PartsError when a data
// part is missing (unless o.Partial); a *verify.Error naming the index
// when no file of the set is at hand at all (nothing was verified, as
// sha256sum -c says), partial or not.
func (s *PartSet) CheckAll(ctx context.Context, o CheckOptions) ([]PartStatus, error) {
	var all []PartStatus
	var bad []PartStatus
	present := 0
	for i := range s.Index.Files() {
		if err := ctx.Err(); err != nil {
			return all, err
		}
		st := PartStatus{Name: s.Name(i), Path: s.Paths[i], State: PartOK}
		switch {
		case st.Path == "":
			st.State = PartMissing
		case o.Streamed && i < len(s.Index.Data):
		default:
			if err := s.Check(ctx, i); err != nil {
				if !verify.IsFailure(err) {
					return all, err
				}
				st.State, st.Reason = PartBad, reasonOf(err)
				bad = append(bad, st)
			}
		}
		if st.State != PartMissing {
			present++
		}
		all = append(all, st)
		if o.Each != nil {
			o.Each(st)
		}
	}
	switch {
	case len(bad) == 1:
		return all, &verify.Error{Part: bad[0].Path, Reason: bad[0].Reason}
	case len(bad) > 1:
		var names []string
		for _, b := range bad {
			names = append(names, b.Name)
		}
		return all, &verify.Error{Reason: fmt.Sprintf("%s are not the signed parts (each is named above)", strings.Join(names, ", "))}
	case present == 0:
		return all, &verify.Error{Part: s.IndexPath, Kind: ErrNothingAtHand, Reason: fmt.Sprintf(
			"no part of bundle %s is at hand, only its part index: nothing was verified; give the parts to check (%s.tar.NNN, %s.parity.NNN)", s.Index.Base, s.Index.Base, s.Index.Base)}
	case !o.Partial && s.MissingData():
		_, err := s.DataPaths()
		return all, err
	}
	return all, nil
}

// MissingData tells whether a data part is not at hand, so the entries
// cannot be read.
func (s *PartSet) MissingData() bool {
	for i := range s.Index.Data {
		if s.Paths[i] == "" {
			return true
		}
	}
	return false
}

// NoIndexError is the failure of a check that needs the signed part index
// (one medium at a time) when FindSet found none for args: a *verify.Error
// naming the index expected beside the first part given.
func NoIndexError(args []string) error {
	for _, a := range args {
		if n, ok := ParseFileName(a); ok && (n.Kind == KindData || n.Kind == KindParity) {
			return &verify.Error{Part: IndexPath(n.Base), Kind: ErrNoIndex, Reason: fmt.Sprintf(
				"is missing, and a part is checked on its own against this signed part index: copy %s and %s (they are on every medium) beside %s, or give their path too",
				filepath.Base(IndexPath(n.Base)), filepath.Base(IndexSigPath(n.Base)), a)}
		}
	}
	return &verify.Error{Kind: ErrNoIndex, Reason: "no signed part index (NAME.parts.sha256) among or beside the files given; give a part of a split bundle, its index, or both"}
}
