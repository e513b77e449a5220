package export

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/lazyfile"
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

// suppliers maps every member name of the format 2 bundle of targets to
// its supplier.
func suppliers(targets []source.Target, staged []staged) map[string]supplier {
	out := map[string]supplier{}
	for _, i := range byKey(targets) {
		for _, m := range staged[i].members {
			if _, ok := out[m.Name]; !ok {
				out[m.Name] = supplier{target: i, member: m}
			}
		}
	}
	return out
}

// formatV2 builds a format 2 bundle's image objects (sorted by key) and
// payloads: a pack per image holding the members it is the first to use,
// read from the staging cache, a recipe per image and TGZSUMS. Images
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
		if p, ok := pick.pack(staged[i], targets[i].Key); ok {
			payloads = append(payloads, p)
		}
	}
	images, rest, err := v2Images(targets, staged, image, pick.packs, pick.have)
	if err != nil {
		return nil, nil, nil, err
	}
	return images, append(payloads, rest...), pick.have, nil
}

// picker chooses a format 2 bundle's packs image by image, in manifest
// order: each distinct member once, in the pack of the first image using
// it, read from where that image's staged tgz has it, or left out as have
// when held (a receipt's, see WithHeldMembers) and not in an object under
// a key the bundle writes, which import would replace while reading it.
// An image whose members are new but for at most 1% of its bytes gets its
// whole tgz as its pack (docs/format-v2.md section 6).
type picker struct {
	held   map[string]manifest.Have
	writes map[string]bool
	seen   map[string]bool
	inHave map[string]bool
	packs  []manifest.Entry // without their sha256
	have   []manifest.Have
}

// wholeShare is the share of an image's tgz bytes, 1/wholeShare, that
// may be members carried elsewhere (or held) while its pack is still its
// whole tgz, whose SHA-256 the writer has without a pass of its own.
const wholeShare = 100

func newPicker(targets []source.Target, held map[string]manifest.Have) *picker {
	p := &picker{held: held, writes: map[string]bool{}, seen: map[string]bool{}, inHave: map[string]bool{}}
	for _, t := range targets {
		p.writes[t.Key] = true
	}
	return p
}

// heldFor returns the have reference under which the bundle may leave out
// member m: held, in an object under a key the bundle does not write.
func (p *picker) heldFor(m cachedMember) (manifest.Have, bool) {
	h, ok := p.held[m.Name]
	return h, ok && !p.writes[h.Key] && h.Length == m.Size
}

// whole reports whether the pack of s should be its whole tgz: some of
// its members are not new (carried by an earlier pack, repeated in it or
// held), they make up at most 1/wholeShare of its bytes, and none is in
// the have list already, which a member may not share with a pack.
func (p *picker) whole(s staged) bool {
	var left int64
	met := map[string]bool{}
	for _, m := range s.members {
		switch _, held := p.heldFor(m); {
		case p.inHave[m.Name]:
			return false
		case p.seen[m.Name] || met[m.Name] || held:
			left += m.Size
		}
		met[m.Name] = true
	}
	return left > 0 && left*wholeShare <= s.size
}

// pack returns the pack of the image with key, staged as s: its members
// not picked before, in tgz order, or its whole tgz (whole); false when
// there are none.
//
// When this run converted the image, the writer checks each member
// against the CRC-32C of the bytes this run compressed and named, and,
// when the pack is the image's whole tgz, takes the tgz's sha256, taken
// of the same bytes, as the pack's: no SHA-256 pass over bytes this run
// just wrote (docs/format-v2.md section 9). For a tgz found in the cache,
// whose file or record may have been damaged since, it checks each
// member against its name and hashes the pack.
func (p *picker) pack(s staged, key string) (bundle.Payload, bool) {
	all := p.whole(s)
	var ms []cachedMember
	var crcs []uint32
	for k, m := range s.members {
		if !all && p.seen[m.Name] {
			continue
		}
		p.seen[m.Name] = true
		if h, ok := p.heldFor(m); ok && !all {
			p.have = append(p.have, h)
			p.inHave[m.Name] = true
			continue
		}
		ms = append(ms, m)
		if s.crcs != nil {
			crcs = append(crcs, s.crcs[k])
		}
	}
	if len(ms) == 0 {
		return bundle.Payload{}, false
	}
	pl := bundle.Payload{Path: manifest.PackPath(key), Open: packOpener(s, ms)}
	for _, m := range ms {
		pl.Members = append(pl.Members, m.Name)
		pl.MemberSizes = append(pl.MemberSizes, m.Size)
		pl.Size += m.Size
	}
	if !s.cached && s.crcs != nil {
		pl.MemberCRCs = crcs
		if len(ms) == len(s.members) {
			pl.SHA256 = s.sha256
		}
	}
	p.packs = append(p.packs, manifest.Entry{Path: pl.Path, Size: pl.Size, Members: pl.Members, MemberSizes: pl.MemberSizes})
	return pl, true
}

// packOpener reads members ms of s one after the other, each run of them
// that follows itself in one staged file as one section.
func packOpener(s staged, ms []cachedMember) func() (io.ReadCloser, error) {
	type section struct {
		file      string
		off, size int64
	}
	var secs []section
	for _, m := range ms {
		f := s.memberFile(m)
		if n := len(secs); n > 0 && secs[n-1].file == f && secs[n-1].off+secs[n-1].size == m.Offset {
			secs[n-1].size += m.Size
			continue
		}
		secs = append(secs, section{f, m.Offset, m.Size})
	}
	return func() (io.ReadCloser, error) {
		var rs []io.Reader
		var cs closers
		for _, sec := range secs {
			l := lazyfile.SectionOnce(sec.file, sec.off, sec.size) // each member is copied once
			rs, cs = append(rs, l), append(cs, l)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(rs...), cs}, nil
	}
}

// v2Images sorts have by name and builds a format 2 bundle's image objects
// (sorted by key), listing their members by position in the member table
// of packs and have, and the payloads beside the packs: a recipe per
// image, giving where its bytes lie, and TGZSUMS.
func v2Images(targets []source.Target, staged []staged, image func(i int) *manifest.Image, packs []manifest.Entry, have []manifest.Have) ([]manifest.Entry, []bundle.Payload, error) {
	slices.SortFunc(have, func(a, b manifest.Have) int { return strings.Compare(a.SHA256, b.SHA256) })
	table := manifest.MemberTable(packs, have)
	layout := (&manifest.Manifest{Entries: packs, Have: have}).Layout()
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
		payloads = append(payloads, bytesPayload(e.Recipe, layout.Recipe(&e)))
	}
	payloads = append(payloads, bytesPayload(manifest.TGZSumsName, manifest.TGZSums(images)))
	return images, payloads, nil
}

// bytesPayload carries b; the bundle writer hashes it.
func bytesPayload(path string, b []byte) bundle.Payload {
	return bundle.Payload{Path: path, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}
