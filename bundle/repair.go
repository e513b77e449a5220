package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
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
// Every part is read once in the common case: the parts that feed the
// Reed-Solomon decoder are hashed while they are read.
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
		// Inputs: the first len(Data) usable parts, known good ones first.
		inputs := append(indexes(state, good), indexes(state, unknown)...)[:len(x.Data)]
		var others []int // unknown parts not used as input: check them on their own
		for _, i := range indexes(state, unknown) {
			if !contains(inputs, i) {
				others = append(others, i)
			}
		}
		// check hashes the parts of idx not yet known good on their own and
		// tells whether any turned out damaged.
		check := func(idx []int) (changed bool, err error) {
			for _, i := range idx {
				if state[i] == good {
					continue
				}
				if err := set.Check(ctx, i); err != nil {
					if !verify.IsFailure(err) {
						return false, err
					}
					state[i], reasons[i], changed = lost, err, true
					continue
				}
				state[i] = good
			}
			return changed, nil
		}
		changed, err := check(others)
		if err != nil {
			return nil, err
		}
		if changed {
			continue
		}
		if len(lostIdx) == 0 {
			// Nothing known lost: check the inputs too.
			if changed, err = check(inputs); err != nil {
				return nil, err
			}
			if !changed {
				return &RepairResult{}, nil
			}
			continue
		}
		if err := set.checkTargets(dir, lostIdx); err != nil {
			return nil, err
		}
		temps, bad, err := set.rebuild(ctx, dir, inputs, lostIdx)
		if err != nil {
			return nil, err
		}
		if len(bad) > 0 {
			for _, b := range bad {
				state[b.i], reasons[b.i] = lost, b.err
			}
			continue
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

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
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

type badInput struct {
	i   int
	err error
}

// rebuild runs the Reed-Solomon decoder over the input parts (hashing each
// as it is read) into temporary files for the lost parts. Inputs that turn
// out damaged are returned in bad, and nothing is kept.
func (s *PartSet) rebuild(ctx context.Context, dir string, inputs, lostIdx []int) (temps map[int]*atomicfile.File, bad []badInput, err error) {
	x := s.Index
	files := x.Files()
	shard := x.ShardSize()
	dec, err := newCoder(len(x.Data), len(x.Parity))
	if err != nil {
		return nil, nil, fmt.Errorf("parity: %w", err)
	}
	valid := make([]io.Reader, len(files))
	fill := make([]io.Writer, len(files))
	inHash := map[int]hash.Hash{}
	for _, i := range inputs {
		f, err := os.Open(s.Paths[i])
		if err != nil {
			return nil, nil, fmt.Errorf("bundle part: %w", err)
		}
		defer f.Close()
		inHash[i] = sha256.New()
		valid[i] = padded(ctx, io.TeeReader(f, inHash[i]), shard)
	}
	made := map[int]*atomicfile.File{}
	outHash := map[int]hash.Hash{}
	defer func() {
		if err != nil || len(bad) > 0 {
			for _, f := range made {
				f.Abort()
			}
		}
	}()
	for _, i := range lostIdx {
		f, err := atomicfile.New(dir, ".airlock-*.partial", 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("creating a rebuilt part: %w", err)
		}
		made[i] = f
		outHash[i] = sha256.New()
		fill[i] = &truncWriter{w: io.MultiWriter(f, outHash[i]), n: files[i].Size}
	}
	if err := dec.Reconstruct(valid, fill); err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("rebuilding parts: %w", err)
	}
	for _, i := range inputs {
		if err := s.compare(i, hex.EncodeToString(inHash[i].Sum(nil))); err != nil {
			bad = append(bad, badInput{i, err})
		}
	}
	if len(bad) > 0 {
		return nil, bad, nil
	}
	for _, i := range lostIdx {
		if got := hex.EncodeToString(outHash[i].Sum(nil)); got != files[i].SHA256 {
			return nil, nil, &verify.Error{Part: files[i].Name, Reason: "the rebuilt part does not match the signed part index; nothing was written"}
		}
		if err := made[i].Finish(); err != nil {
			return nil, nil, &WriteError{Path: filepath.Join(dir, files[i].Name), Err: err}
		}
	}
	return made, nil, nil
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
