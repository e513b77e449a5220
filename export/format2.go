package export

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// cachedMember is one gzip member of a staged format 2 tgz, as the
// staging record lists it (docs/format-v2.md section 9): its name (the
// SHA-256 of its bytes) and where it lies in the staged file.
type cachedMember struct {
	Name   string `json:"name"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Raw    string `json:"raw,omitempty"` // SHA-256 of its uncompressed run, for reuse (memberSource); may be absent
	// File is the staged data file holding the member, by name in the
	// cache, when another entry staged it first (memberSink); empty: the
	// entry's own data file.
	File string `json:"file,omitempty"`
}

// errNoMembers marks a format 2 staging record without its member list.
var errNoMembers = errors.New("no member list recorded")

// byKey returns the indexes of targets sorted by key: the order of a
// format 2 manifest's images.
func byKey(targets []source.Target) []int {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case targets[a].Key < targets[b].Key:
			return -1
		case targets[a].Key > targets[b].Key:
			return 1
		}
		return 0
	})
	return order
}

// supplier is where a bundle's copy of a member comes from: the first
// image, in manifest order, whose tgz holds it, and the member there.
type supplier struct {
	target int
	member cachedMember
}

// suppliers maps every member path of the format 2 bundle of targets to
// its supplier, with the member paths in first-appearance order.
func suppliers(targets []source.Target, staged []staged) (map[string]supplier, []string) {
	out := map[string]supplier{}
	var paths []string
	for _, i := range byKey(targets) {
		for _, m := range staged[i].members {
			p := manifest.MemberPath(m.Name)
			if _, ok := out[p]; !ok {
				out[p] = supplier{target: i, member: m}
				paths = append(paths, p)
			}
		}
	}
	return out, paths
}

// formatV2 builds a format 2 bundle's image objects (sorted by key) and
// payloads: each distinct member once, read from the staged tgz of the
// first image that has it, a recipe per image, MEMBERS and TGZSUMS. Images
// list their members by position in the member table (member_index).
//
// Members in held (a receipt's, see WithHeldMembers) are left out and
// returned as the have list instead, sorted by name (docs/format-v2.md
// section 10), unless they lie in an object under a key this bundle
// writes, which import would replace while reading it.
func formatV2(targets []source.Target, staged []staged, image func(i int) *manifest.Image, held map[string]manifest.Have) ([]manifest.Entry, []bundle.Payload, []manifest.Have, error) {
	var payloads []bundle.Payload
	pick := newPicker(targets, held)
	for _, i := range byKey(targets) {
		payloads = append(payloads, pick.members(staged[i])...)
	}
	carried, have := pick.carried, pick.have
	images, rest, err := v2Images(targets, staged, image, carried, have)
	if err != nil {
		return nil, nil, nil, err
	}
	return images, append(payloads, rest...), have, nil
}

// picker chooses a format 2 bundle's member payloads image by image, in
// manifest order: each distinct member once, at its first appearance, read
// from the staged tgz of the first image holding it (its supplier), or
// left out as have when held (a receipt's, see WithHeldMembers) and not
// in an object under a key the bundle writes, which import would replace
// while reading it.
type picker struct {
	held    map[string]manifest.Have
	writes  map[string]bool
	seen    map[string]bool
	carried []string
	have    []manifest.Have
}

func newPicker(targets []source.Target, held map[string]manifest.Have) *picker {
	p := &picker{held: held, writes: map[string]bool{}, seen: map[string]bool{}}
	for _, t := range targets {
		p.writes[t.Key] = true
	}
	return p
}

// members returns the payloads of s's members not picked before, in tgz
// order.
func (p *picker) members(s staged) []bundle.Payload {
	var out []bundle.Payload
	for _, m := range s.members {
		if p.seen[m.Name] {
			continue
		}
		p.seen[m.Name] = true
		if h, ok := p.held[m.Name]; ok && !p.writes[h.Key] && h.Length == m.Size {
			p.have = append(p.have, h)
			continue
		}
		p.carried = append(p.carried, m.Name)
		out = append(out, bundle.Payload{Path: manifest.MemberPath(m.Name), Size: m.Size, SHA256: m.Name,
			Open: sectionOpener(s.memberFile(m), m.Offset, m.Size)})
	}
	return out
}

// v2Images sorts have by name and builds a format 2 bundle's image objects
// (sorted by key), listing their members by position in the member table
// of carried and have, and the payloads beside the members: a recipe per
// image, MEMBERS and TGZSUMS.
func v2Images(targets []source.Target, staged []staged, image func(i int) *manifest.Image, carried []string, have []manifest.Have) ([]manifest.Entry, []bundle.Payload, error) {
	slices.SortFunc(have, func(a, b manifest.Have) int { return strings.Compare(a.SHA256, b.SHA256) })
	table := manifest.MemberTable(carried, have)
	var images []manifest.Entry
	var payloads []bundle.Payload
	for _, i := range byKey(targets) {
		s, t := staged[i], targets[i]
		e := manifest.Entry{Path: PayloadPrefix + t.Key, Size: s.size, SHA256: s.sha256, Image: image(i),
			TarSize: s.tarSize, Recipe: manifest.RecipePath(t.Key)}
		for _, m := range s.members {
			e.Members = append(e.Members, m.Name)
		}
		if err := manifest.IndexMembers(&e, table); err != nil {
			return nil, nil, err // a bug: the caller lists every member of every image
		}
		images = append(images, e)
		payloads = append(payloads, bytesPayload(e.Recipe, manifest.RecipeBytes(&e)))
	}
	payloads = append(payloads, bytesPayload(manifest.TableName, manifest.TableBytes(table)),
		bytesPayload(manifest.TGZSumsName, manifest.TGZSums(images)))
	return images, payloads, nil
}

// bytesPayload carries b; the bundle writer hashes it.
func bytesPayload(path string, b []byte) bundle.Payload {
	return bundle.Payload{Path: path, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// sectionOpener opens size bytes at off of the file at path.
func sectionOpener(path string, off, size int64) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{io.NewSectionReader(f, off, size), f}, nil
	}
}
