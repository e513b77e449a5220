package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// MaxParts is the most parts a bundle may have: part names stay three
// digits wide, so they sort as text.
const MaxParts = 999

var partRE = regexp.MustCompile(`^(.*\.tar)\.([0-9]{3})$`)

// BaseName turns an output name into the bundle's base name: "x" and
// "x.tar" both give "x".
func BaseName(out string) string {
	return strings.TrimSuffix(out, ".tar")
}

// SinglePath is the file name of an unsplit bundle.
func SinglePath(base string) string { return base + ".tar" }

// PartPath is the file name of part n (1-based) of a split bundle.
func PartPath(base string, n int) string { return fmt.Sprintf("%s.tar.%03d", base, n) }

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
	parts, _ := filepath.Glob(SinglePath(base) + ".[0-9][0-9][0-9]")
	parity, _ := filepath.Glob(base + ".parity.[0-9][0-9][0-9]")
	return append(append(found, parts...), parity...)
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
	if m := partRE.FindStringSubmatch(arg); m != nil {
		if m[2] != "001" {
			return nil, fmt.Errorf("%s is not the first part; give %s.001 (airlock finds the other parts beside it)", arg, m[1])
		}
		return findParts(m[1])
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
	matches, err := filepath.Glob(tarName + ".[0-9][0-9][0-9]")
	if err != nil {
		return nil, err
	}
	nums := make([]int, 0, len(matches))
	for _, m := range matches {
		n, _ := strconv.Atoi(m[len(m)-3:])
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
		m := partRE.FindStringSubmatch(a)
		if m == nil {
			return nil, fmt.Errorf("%s is not a bundle part (NAME.tar.NNN); give one bundle file or its parts", a)
		}
		if i == 0 {
			tarName = m[1]
		} else if m[1] != tarName {
			return nil, fmt.Errorf("%s does not belong to bundle %s", a, tarName)
		}
		if n, _ := strconv.Atoi(m[2]); n != i+1 {
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
