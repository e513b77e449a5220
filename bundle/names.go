package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxParts is the most parts a bundle may have: part names stay three
// digits wide, so they sort as text.
const MaxParts = 999

// Kind tells what a file of a bundle is, by its name.
type Kind int

// The files of a bundle, named after its base name NAME.
const (
	KindWhole    Kind = iota + 1 // NAME.tar, an unsplit bundle
	KindData                     // NAME.tar.NNN
	KindParity                   // NAME.parity.NNN
	KindIndex                    // NAME.parts.sha256
	KindIndexSig                 // NAME.parts.sha256.sig
)

// FileName is the one grammar of bundle file names (docs/format.md,
// sections 1, 10 and 11): every name is formatted by String and read by
// ParseFileName, nowhere else.
type FileName struct {
	Base string // NAME, possibly with a folder
	Kind Kind
	N    int // 1-based number of a data or parity part; 0 otherwise
}

var fileNameSuffix = map[Kind]string{KindWhole: ".tar", KindData: ".tar.", KindParity: ".parity.", KindIndex: ".parts.sha256", KindIndexSig: ".parts.sha256.sig"}

// String is the file name (with Base's folder).
func (n FileName) String() string {
	if n.Kind == KindData || n.Kind == KindParity {
		return fmt.Sprintf("%s%s%03d", n.Base, fileNameSuffix[n.Kind], n.N)
	}
	return n.Base + fileNameSuffix[n.Kind]
}

// ParseFileName reads a bundle file name (a path: Base keeps its folder).
// ok is false for a name no bundle file has.
func ParseFileName(path string) (n FileName, ok bool) {
	for _, k := range []Kind{KindIndexSig, KindIndex, KindData, KindParity, KindWhole} {
		rest, num := path, 0
		if k == KindData || k == KindParity {
			digits := path[max(0, len(path)-3):]
			if len(digits) != 3 || strings.Trim(digits, "0123456789") != "" {
				continue
			}
			rest, num = path[:len(path)-3], atoi3(digits)
		}
		base, found := strings.CutSuffix(rest, fileNameSuffix[k])
		if found && filepath.Base(base) != "" && !strings.HasSuffix(base, "/") && base != "" {
			return FileName{Base: base, Kind: k, N: num}, true
		}
	}
	return FileName{}, false
}

func atoi3(digits string) int {
	return int(digits[0]-'0')*100 + int(digits[1]-'0')*10 + int(digits[2]-'0')
}

// globParts lists the files named as parts of kind k (KindData or
// KindParity) of base, whatever their number, in name order.
func globParts(base string, k Kind) []string {
	found, _ := filepath.Glob(globEscape(base) + fileNameSuffix[k] + "[0-9][0-9][0-9]")
	return found
}

func globEscape(s string) string {
	return strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`).Replace(s)
}

// BaseName turns an output name into the bundle's base name: "x" and
// "x.tar" both give "x".
func BaseName(out string) string {
	return strings.TrimSuffix(out, ".tar")
}

// SinglePath is the file name of an unsplit bundle.
func SinglePath(base string) string { return FileName{Base: base, Kind: KindWhole}.String() }

// PartPath is the file name of part n (1-based) of a split bundle.
func PartPath(base string, n int) string { return FileName{Base: base, Kind: KindData, N: n}.String() }

// ParityPath is the file name of parity part k (1-based). It does not match
// NAME.tar*, so `cat NAME.tar.0*` and `cat NAME.tar*` still give the stream.
func ParityPath(base string, k int) string {
	return FileName{Base: base, Kind: KindParity, N: k}.String()
}

// IndexPath is the signed part index of a split bundle.
func IndexPath(base string) string { return FileName{Base: base, Kind: KindIndex}.String() }

// IndexSigPath is the detached signature of the part index.
func IndexSigPath(base string) string { return FileName{Base: base, Kind: KindIndexSig}.String() }

// DamagedDir is the folder, beside the parts, where repair keeps a damaged
// part it replaced: inside it, no recipe's glob (NAME.tar.0*, NAME.tar*,
// NAME.*) picks the part up.
const DamagedDir = "damaged"

// DamagedPath is where repair keeps the damaged part at path.
func DamagedPath(path string) string {
	return filepath.Join(filepath.Dir(path), DamagedDir, filepath.Base(path))
}

// dataPart reads the name of a data part: its NAME.tar, part number.
func dataPart(path string) (tarName string, n int, ok bool) {
	f, ok := ParseFileName(path)
	if !ok || f.Kind != KindData {
		return "", 0, false
	}
	return SinglePath(f.Base), f.N, true
}

// existing lists bundle files already present for base.
func existing(base string) []string {
	var found []string
	if _, err := os.Lstat(SinglePath(base)); err == nil {
		found = append(found, SinglePath(base))
	}
	for _, p := range []string{IndexPath(base), IndexSigPath(base)} {
		if _, err := os.Lstat(p); err == nil {
			found = append(found, p)
		}
	}
	return append(append(found, globParts(base, KindData)...), globParts(base, KindParity)...)
}

// ResolveParts turns the user's arguments into the ordered list of files of
// one bundle. It accepts a whole bundle file, the first part (the others are
// found beside it), all parts in order, or the base name given to export.
func ResolveParts(args []string) ([]string, error) {
	switch {
	case len(args) == 0:
		return nil, fmt.Errorf("no bundle given")
	case len(args) > 1:
		return checkGivenParts(args)
	}
	arg := args[0]
	if tarName, n, ok := dataPart(arg); ok {
		if n != 1 {
			return nil, fmt.Errorf("%s is not the first part; give %s.001 (airlock finds the other parts beside it)", arg, tarName)
		}
		return findParts(tarName)
	}
	if _, err := os.Stat(arg); err == nil {
		return []string{arg}, nil
	}
	base := BaseName(arg)
	if _, err := os.Stat(SinglePath(base)); err == nil {
		return []string{SinglePath(base)}, nil
	}
	if _, err := os.Stat(PartPath(base, 1)); err == nil {
		return findParts(SinglePath(base))
	}
	return nil, fmt.Errorf("bundle %s: no such file", arg)
}

// findParts lists tarName.001, .002, ... and fails on gaps.
func findParts(tarName string) ([]string, error) {
	matches := globParts(BaseName(tarName), KindData)
	nums := make([]int, 0, len(matches))
	for _, m := range matches {
		_, n, _ := dataPart(m)
		nums = append(nums, n)
	}
	sort.Ints(nums)
	base := strings.TrimSuffix(tarName, ".tar")
	for i, n := range nums {
		if n != i+1 {
			return nil, fmt.Errorf("part %s is missing (found %d parts up to %s)", PartPath(base, i+1), len(nums), PartPath(base, nums[len(nums)-1]))
		}
	}
	if len(nums) == 0 {
		return nil, fmt.Errorf("bundle %s.001: no such file", tarName)
	}
	parts := make([]string, len(nums))
	for i := range nums {
		parts[i] = PartPath(base, i+1)
	}
	return parts, nil
}

// checkGivenParts accepts a complete, ordered list of parts of one bundle.
func checkGivenParts(args []string) ([]string, error) {
	var tarName string
	for i, a := range args {
		name, n, ok := dataPart(a)
		if !ok {
			return nil, fmt.Errorf("%s is not a bundle part (NAME.tar.NNN); give one bundle file or its parts", a)
		}
		if i == 0 {
			tarName = name
		} else if name != tarName {
			return nil, fmt.Errorf("%s does not belong to bundle %s", a, tarName)
		}
		if n != i+1 {
			return nil, fmt.Errorf("parts given out of order: %s is given as part %d; give the parts in order, or only the first part", a, i+1)
		}
	}
	all, err := findParts(tarName)
	if err != nil {
		return nil, err
	}
	if len(all) != len(args) {
		return nil, fmt.Errorf("bundle %s has %d parts but %d were given; give them all, or only the first part", tarName, len(all), len(args))
	}
	return args, nil
}
