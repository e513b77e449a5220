package bundle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/verify"
)

// RepairResult tells what Repair did.
type RepairResult struct {
	Rebuilt []string // the files written, verified against the index
	Kept    []string // damaged files moved aside (NAME.damaged) to make room
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
// kept as NAME.damaged. When too many parts are lost, Repair writes nothing
// and fails with a *PartsError naming them.
//
// Every part is read once in the common case: one pass hashes every part
// at hand (each on its own goroutines, so on every core) while the
// Reed-Solomon decoder rebuilds the missing ones from len(Data) of them,
// stripe by stripe, and the rebuilt parts are hashed as they are written.
// Only when a part turns out damaged is there a second pass, which reads
// the parts now known good without hashing them again.
func Repair(ctx context.Context, set *PartSet, dir string) (*RepairResult, error) {
	x := set.Index
	files := x.Files()
	state := make([]int, len(files))
	reasons := make([]error, len(files))
	for i := range files {
		if err := set.CheckSize(i); err != nil {
			if !verify.IsFailure(err) {
				return nil, err
			}
			state[i], reasons[i] = lost, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lostIdx := indexes(state, lost)
		if len(lostIdx) > len(x.Parity) {
			return nil, set.tooMany(lostIdx, reasons)
		}
		unknownIdx := indexes(state, unknown)
		if len(lostIdx) == 0 && len(unknownIdx) == 0 {
			return &RepairResult{}, nil
		}
		var inputs []int
		if len(lostIdx) > 0 {
			if err := set.checkTargets(dir, lostIdx); err != nil {
				return nil, err
			}
			// The first len(Data) usable parts, known good ones first.
			inputs = append(indexes(state, good), unknownIdx...)[:len(x.Data)]
		}
		temps, sums, err := set.rebuild(ctx, dir, inputs, unknownIdx, lostIdx)
		if err != nil {
			return nil, err
		}
		damaged := false
		for _, i := range unknownIdx {
			if err := set.compare(i, sums[i]); err != nil {
				state[i], reasons[i], damaged = lost, err, true
				continue
			}
			state[i] = good
		}
		if damaged {
			// Rebuilt from a damaged part, or more parts to rebuild: again.
			for _, f := range temps {
				f.Abort()
			}
			continue
		}
		if len(lostIdx) == 0 {
			return &RepairResult{}, nil
		}
		return set.place(dir, lostIdx, temps)
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
			if _, err := os.Lstat(final + ".damaged"); err == nil {
				return fmt.Errorf("%s already exists; move it away so the damaged part can be kept there", final+".damaged")
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

// rebuild makes one pass over the parts: it hashes the parts of check,
// feeds the parts of inputs (len(Data) of them, or none) to the
// Reed-Solomon decoder and writes the parts of lostIdx it rebuilds into
// temporary files in dir, hashed as they are written. It returns the
// hashes of the parts of check by position. A rebuilt part that does not
// match the index is an error when every input is known good; when an
// input is not, the caller compares its hash first and decides.
func (s *PartSet) rebuild(ctx context.Context, dir string, inputs, check, lostIdx []int) (temps map[int]*atomicfile.File, sums map[int]string, err error) {
	x := s.Index
	files := x.Files()
	var ins []*stripeIn
	at := map[int]*stripeIn{}
	for _, i := range append(append([]int(nil), inputs...), check...) {
		if at[i] == nil {
			at[i] = &stripeIn{path: s.Paths[i], size: files[i].Size, pos: i}
			ins = append(ins, at[i])
		}
	}
	for _, i := range inputs {
		at[i].feed = true
	}
	for _, i := range check {
		at[i].hash = true
	}
	temps = map[int]*atomicfile.File{}
	defer func() {
		if err != nil {
			for _, f := range temps {
				f.Abort()
			}
		}
	}()
	var outs []*stripeOut
	for _, i := range lostIdx {
		f, err := atomicfile.New(dir, ".airlock-*.partial", 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("creating a rebuilt part: %w", err)
		}
		temps[i] = f
		outs = append(outs, &stripeOut{f: f.File, name: filepath.Join(dir, files[i].Name), size: files[i].Size, pos: i})
	}
	var code func([][]byte) error
	if len(outs) > 0 {
		dec, err := newCoder(len(x.Data), len(x.Parity))
		if err != nil {
			return nil, nil, fmt.Errorf("parity: %w", err)
		}
		required := make([]bool, len(files))
		for _, i := range lostIdx {
			required[i] = true
		}
		code = func(row [][]byte) error {
			for _, i := range lostIdx {
				row[i] = row[i][:0] // missing: the decoder fills it in place
			}
			return dec.ReconstructSome(row, required)
		}
	}
	if err := stripePass(ctx, x.ShardSize(), len(files), ins, outs, code); err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("rebuilding parts: %w", err)
	}
	sums = map[int]string{}
	for _, in := range ins {
		if in.hash {
			sums[in.pos] = in.sum
		}
	}
	for _, out := range outs {
		i := out.pos
		if out.sum == files[i].SHA256 {
			continue
		}
		for _, j := range inputs {
			if sums[j] != "" && s.compare(j, sums[j]) != nil {
				return temps, sums, nil // rebuilt from a damaged part: the caller sees it
			}
		}
		return nil, nil, &verify.Error{Part: files[i].Name, Reason: "the rebuilt part does not match the signed part index; nothing was written"}
	}
	for _, i := range lostIdx {
		if err := temps[i].Finish(); err != nil {
			return nil, nil, &WriteError{Path: filepath.Join(dir, files[i].Name), Err: err}
		}
	}
	return temps, sums, nil
}

// place renames the verified rebuilt parts to their signed names.
func (s *PartSet) place(dir string, lostIdx []int, temps map[int]*atomicfile.File) (*RepairResult, error) {
	res := &RepairResult{}
	for k, i := range lostIdx {
		final := filepath.Join(dir, s.Name(i))
		err := func() error {
			if s.Paths[i] != "" && sameFile(final, s.Paths[i]) {
				if err := atomicfile.RenameNoReplace(final, final+".damaged"); err != nil {
					return err
				}
				res.Kept = append(res.Kept, final+".damaged")
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
