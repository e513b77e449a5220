package concourse

// Series is one image series as the collision check sees it: the regexp
// that selects its versions and the key of one of them.
type Series struct {
	Regexp string
	Key    string
}

// Collision says that the regexp of series Target also matches the key of
// series Other in the same bucket, as `ubuntu-(.*)\.tgz` matches
// ubuntu-minimal-22.04.tgz when both share a folder. Pipelines using the
// regexp would then see the other image as a version (and, if Capture is
// not a valid version, the resource fails for all of them).
type Collision struct {
	Target, Other int    // indexes into the series given to Collisions
	Capture       string // what the resource would read as the version
	ValidVersion  bool   // whether the resource can parse Capture (ParseVersion)
}

// Collisions returns a collision for every series whose Regexp, applied
// as the S3 resource does (see CompileLevels), matches the Key of a series
// with another regexp. Each (regexp, key) pair is reported once; regexps
// that do not compile are skipped.
func Collisions(series []Series) []Collision {
	var cs []Collision
	seen := map[[2]string]bool{}
	for i, t := range series {
		l, err := CompileLevels(t.Regexp)
		if err != nil {
			continue
		}
		for j, o := range series {
			pair := [2]string{t.Regexp, o.Key}
			if o.Regexp == t.Regexp || seen[pair] {
				continue
			}
			if c, ok := l.Match(o.Key); ok {
				seen[pair] = true
				_, perr := ParseVersion(c)
				cs = append(cs, Collision{Target: i, Other: j, Capture: c, ValidVersion: perr == nil})
			}
		}
	}
	return cs
}
