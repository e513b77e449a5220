package bundle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockhq/airlock/bundle/stripe"
	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/verify"
)

// RepairPass says how Repair made sure of what it wrote.
type RepairPass int

const (
	// FastPass: parts were missing (absent or of the wrong size); they
	// were rebuilt from RepairResult.From without hashing those parts one
	// by one, and every rebuilt part matched the signed index. The rebuilt
	// parts are proven correct; the parts they were rebuilt from, and any
	// spare parts not needed, were not checked (airlock verify checks
	// each).
	FastPass RepairPass = iota + 1
	// FullPass: every part at hand was hashed and compared with the signed
	// index, and every one missing or damaged was rebuilt from parts known
	// good.
	FullPass
)

// RepairResult tells what Repair did.
type RepairResult struct {
	Pass    RepairPass
	Rebuilt []string // the files written, verified against the index
	Kept    []string // damaged files moved aside (DamagedPath) to make room
	// From lists the parts the rebuilt ones were computed from.
	From []string
	// Checked is the number of parts at hand hashed and compared with the
	// index: all of them on the full pass, none on the fast pass.
	Checked int
	// FastPassFailed is set on a full pass that followed a fast pass whose
	// rebuilt part did not match the index: a part it was rebuilt from
	// was damaged.
	FastPassFailed bool
}

const (
	unknown = iota
	good
	lost
)

// Repair rebuilds the lost parts of a set (data or parity parts that are
// missing, of the wrong size, or whose SHA-256 differs from the signed
// index) from the others, as long as no more are lost than there are
// parity parts. Each rebuilt part is written to dir under a temporary name,
// checked against the index and renamed to its signed name; a file already
// there is replaced only when it is the damaged part itself, and is then
// kept in the folder damaged/ beside it (DamagedPath), where no recipe's
// glob picks it up. When too many parts are lost, Repair writes nothing
// and fails with a *PartsError naming them.
//
// When parts are missing, Repair first takes the fast pass: it rebuilds
// them from len(Data) of the others, reading those once without hashing
// them, and hashes only the rebuilt parts as they are written. Every byte
// of a rebuilt part depends on the same byte of every part it is rebuilt
// from, so a rebuilt part that matches the signed index is correct. Only
// when one does not match (a part it was rebuilt from is damaged), or when
// nothing is missing, does Repair take the full pass: hash every part at
// hand (each on its own goroutine, so on every core), then rebuild the
// missing and damaged ones from parts known good.
func Repair(ctx context.Context, set *PartSet, dir string) (*RepairResult, error) {
	x := set.Index
	state := make([]int, len(x.Files()))
	reasons := make([]error, len(x.Files()))
	for i := range state {
		if err := set.CheckSize(i); err != nil {
			if !verify.IsFailure(err) {
				return nil, err
			}
			state[i], reasons[i] = lost, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The fast pass when parts are missing, then (or else) the full pass.
	pass, fastFailed, checked := FastPass, false, 0
	if len(indexes(state, lost)) == 0 {
		pass = FullPass
	}
	for {
		from := unknown // the fast pass rebuilds from parts not hashed
		if pass == FullPass {
			check := indexes(state, unknown)
			if err := set.hashParts(ctx, check, state, reasons); err != nil {
				return nil, err
			}
			from, checked = good, len(check)
		}
		lostIdx := indexes(state, lost)
		if len(lostIdx) > len(x.Parity) {
			return nil, set.tooMany(lostIdx, reasons)
		}
		if len(lostIdx) == 0 { // (never after a fast pass: its parts stay lost)
			return &RepairResult{Pass: FullPass, Checked: checked}, nil
		}
		if err := set.checkTargets(dir, lostIdx); err != nil {
			return nil, err
		}
		inputs := indexes(state, from)[:len(x.Data)]
		temps, ok, err := set.rebuild(ctx, dir, inputs, lostIdx)
		if err != nil {
			return nil, err
		}
		if ok {
			res, err := set.place(dir, lostIdx, temps)
			if res != nil {
				res.Pass, res.From, res.Checked, res.FastPassFailed = pass, set.paths(inputs), checked, fastFailed
			}
			return res, err
		}
		if pass == FullPass {
			return nil, &verify.Error{Part: set.Name(lostIdx[0]), Reason: "the part rebuilt from parts that match the signed part index does not match it: were the parts changing while repair ran? Nothing was written"}
		}
		pass, fastFailed = FullPass, true
	}
}

func indexes(state []int, want int) []int {
	var out []int
	for i, s := range state {
		if s == want {
			out = append(out, i)
		}
	}
	return out
}

func (s *PartSet) paths(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = s.Paths[i]
	}
	return out
}

// tooMany is the refusal when more parts are lost than parity can rebuild.
func (s *PartSet) tooMany(lostIdx []int, reasons []error) error {
	k := len(s.Index.Parity)
	var names, why []string
	for _, i := range lostIdx {
		names = append(names, s.Name(i))
		if s.Paths[i] == "" {
			why = append(why, s.Name(i)+" is missing")
		} else {
			why = append(why, s.Paths[i]+": "+reasonOf(reasons[i]))
		}
	}
	return &PartsError{Fail: &verify.Error{Reason: fmt.Sprintf(
		"%d parts are lost (%s) and the %d parity part(s) can rebuild at most %d; bring back any %d of: %s; nothing was written",
		len(lostIdx), strings.Join(why, "; "), k, k, len(lostIdx)-k, strings.Join(names, ", "))}, Lost: names}
}

func reasonOf(err error) string {
	var ve *verify.Error
	if errors.As(err, &ve) {
		return ve.Reason
	}
	return err.Error()
}

// checkTargets fails before any work when a rebuilt part could not be put
// in place: dir/NAME exists and is not the damaged part itself.
func (s *PartSet) checkTargets(dir string, lostIdx []int) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("folder %s for the rebuilt parts does not exist", dir)
	}
	for _, i := range lostIdx {
		final := filepath.Join(dir, s.Name(i))
		if _, err := os.Lstat(final); err == nil && !sameFile(final, s.Paths[i]) {
			return fmt.Errorf("%s already exists and is not the part that was checked (%s); move it away or rebuild into another folder", final, s.Paths[i])
		}
		if s.Paths[i] != "" && sameFile(final, s.Paths[i]) {
			if _, err := os.Lstat(DamagedPath(final)); err == nil {
				return fmt.Errorf("%s already exists; move it away so the damaged part can be kept there", DamagedPath(final))
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	if b == "" {
		return false
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// hashParts hashes the parts of idx in one pass, each on a goroutine of
// its own, and marks each good or lost (with its reason) in state.
func (s *PartSet) hashParts(ctx context.Context, idx []int, state []int, reasons []error) error {
	files := s.Index.Files()
	ins := make([]*stripe.In, len(idx))
	for k, i := range idx {
		ins[k] = &stripe.In{Path: s.Paths[i], Size: files[i].Size, Pos: i}
	}
	if err := stripe.Hash(ctx, s.Index.ShardSize(), ins); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("checking parts: %w", err)
	}
	for _, in := range ins {
		if err := s.compare(in.Pos, in.Sum); err != nil {
			state[in.Pos], reasons[in.Pos] = lost, err
			continue
		}
		state[in.Pos] = good
	}
	return nil
}

// rebuild feeds the parts of inputs (len(Data) of them) to the
// Reed-Solomon decoder, without hashing them, and writes the parts of
// lostIdx it rebuilds into temporary files in dir, hashed as they are
// written. When every rebuilt part matches the index, they are fsynced and
// returned with ok set; otherwise every temporary file is removed and ok
// is false.
func (s *PartSet) rebuild(ctx context.Context, dir string, inputs, lostIdx []int) (_ map[int]*atomicfile.File, ok bool, err error) {
	x := s.Index
	files := x.Files()
	ins := make([]*stripe.In, len(inputs))
	for k, i := range inputs {
		ins[k] = &stripe.In{Path: s.Paths[i], Size: files[i].Size, Pos: i}
	}
	temps := map[int]*atomicfile.File{}
	defer func() { // temps, not the result, which is nil by then
		if err != nil || !ok {
			for _, f := range temps {
				f.Abort()
			}
		}
	}()
	var outs []*stripe.Out
	for _, i := range lostIdx {
		f, err := atomicfile.New(dir, ".airlock-*.partial", 0o644)
		if err != nil {
			return nil, false, fmt.Errorf("creating a rebuilt part: %w", err)
		}
		temps[i] = f
		outs = append(outs, &stripe.Out{File: f.File, Name: filepath.Join(dir, files[i].Name), Size: files[i].Size, Pos: i})
	}
	if err := stripe.Rebuild(ctx, x.ShardSize(), len(x.Data), len(x.Parity), ins, outs); err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("rebuilding parts: %w", bundleWriteError(err))
	}
	for _, out := range outs {
		if out.Sum != files[out.Pos].SHA256 {
			return nil, false, nil
		}
	}
	for _, i := range lostIdx {
		if err := temps[i].Finish(); err != nil {
			return nil, false, &WriteError{Path: filepath.Join(dir, files[i].Name), Err: err}
		}
	}
	return temps, true, nil
}

// place renames the verified rebuilt parts to their signed names.
func (s *PartSet) place(dir string, lostIdx []int, temps map[int]*atomicfile.File) (*RepairResult, error) {
	res := &RepairResult{}
	for k, i := range lostIdx {
		final := filepath.Join(dir, s.Name(i))
		err := func() error {
			if s.Paths[i] != "" && sameFile(final, s.Paths[i]) {
				if err := os.MkdirAll(filepath.Dir(DamagedPath(final)), 0o755); err != nil {
					return err
				}
				if err := atomicfile.RenameNoReplace(final, DamagedPath(final)); err != nil {
					return err
				}
				res.Kept = append(res.Kept, DamagedPath(final))
			}
			if err := temps[i].CommitNoReplace(final); errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s appeared meanwhile; not replacing it", final)
			} else if err != nil {
				return err
			}
			return nil
		}()
		if err != nil {
			for _, j := range lostIdx[k:] {
				temps[j].Abort()
			}
			return res, fmt.Errorf("putting rebuilt part %s in place: %w", final, err)
		}
		s.Paths[i] = final
		res.Rebuilt = append(res.Rebuilt, final)
	}
	return res, nil
}
