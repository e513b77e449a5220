package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/airlockhq/airlock/concourse"
)

// Bundle format versions (docs/format.md, docs/format-v2.md).
const (
	FormatV1 = 1 // one whole tgz entry per image
	FormatV2 = 2 // each distinct gzip member once; images assembled from members
)

// Names of format 2's payload entries (docs/format-v2.md sections 5 and 7).
const (
	MembersFolder = "members/sha256/" // member entries, one per member (earlier writers)
	PacksFolder   = "packs/"          // packs: an image's new members in one entry
	HaveFolder    = "have/"           // where a recipe reads a have member's object (never an entry)
	PackSuffix    = ".pack"
	RecipesFolder = "recipes/"
	RecipeSuffix  = ".members"
	TGZSumsName   = "TGZSUMS"
	TableName     = "MEMBERS"  // the member table, when images use member_index
	HeadPadName   = "HEAD.pad" // fills a reserved head slot (section 5); never a payload
)

// Have is a member a format 2 delta leaves out because the bucket holds
// it, inside the object at Key (relative to the import prefix).
type Have struct {
	SHA256       string `json:"sha256"`
	Key          string `json:"key"`
	Offset       int64  `json:"offset"`
	Length       int64  `json:"length"`
	ObjectSHA256 string `json:"object_sha256"`
}

// HaveError is a have reference that breaks rule 6 of docs/format-v2.md
// section 11.
type HaveError struct {
	SHA256 string
	Err    error
}

func (e *HaveError) Error() string { return fmt.Sprintf("have member %.64s: %v", e.SHA256, e.Err) }
func (e *HaveError) Unwrap() error { return e.Err }

// MemberPath is the entry path of the member named sum.
func MemberPath(sum string) string { return MembersFolder + sum }

// PackPath is the path of the pack of the image with key.
func PackPath(key string) string { return PacksFolder + key + PackSuffix }

// IsPack reports whether e is a pack entry.
func (e *Entry) IsPack() bool { return strings.HasPrefix(e.Path, PacksFolder) }

// Where is where a member's bytes lie: Size bytes from Offset of the data
// of the entry at Path (a pack or a member entry) or, for a have member,
// of the object holding it, fetched to HaveFolder + its key (section 7).
type Where struct {
	Path         string
	Offset, Size int64
}

// Layout maps every member of a format 2 manifest, carried or in its have
// list, to where it lies: a member in more than one pack, to its first
// copy in the member table (section 6).
type Layout map[string]Where

// Layout returns where m's members lie.
func (m *Manifest) Layout() Layout {
	l := Layout{}
	var packs []*Entry
	for i := range m.Entries {
		e := &m.Entries[i]
		if name, ok := strings.CutPrefix(e.Path, MembersFolder); ok {
			l[name] = Where{e.Path, 0, e.Size}
		} else if len(e.Members) > 0 {
			packs = append(packs, e)
		}
	}
	slices.SortFunc(packs, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) })
	for _, e := range packs {
		var off int64
		for i, name := range e.Members {
			if i >= len(e.MemberSizes) {
				break
			}
			if _, ok := l[name]; !ok {
				l[name] = Where{e.Path, off, e.MemberSizes[i]}
			}
			off += e.MemberSizes[i]
		}
	}
	for _, h := range m.Have {
		l[h.SHA256] = Where{HaveFolder + h.Key, h.Offset, h.Length}
	}
	return l
}

// Ranges are where image object e's bytes lie, in order: its members'
// places, each merged into the one before it when it starts where that
// one ends in the same entry.
func (l Layout) Ranges(e *Entry) []Where {
	var out []Where
	for _, name := range e.Members {
		w := l[name]
		if n := len(out); n > 0 && out[n-1].Path == w.Path && out[n-1].Offset+out[n-1].Size == w.Offset {
			out[n-1].Size += w.Size
			continue
		}
		out = append(out, w)
	}
	return out
}

// Recipe is the recipe of image object e in a bundle with packs (section
// 7): one "path offset length" line per range.
func (l Layout) Recipe(e *Entry) []byte {
	var b strings.Builder
	for _, w := range l.Ranges(e) {
		fmt.Fprintf(&b, "%s %d %d\n", w.Path, w.Offset, w.Size)
	}
	return []byte(b.String())
}

// RecipePath is the recipe entry path of the image with key.
func RecipePath(key string) string { return RecipesFolder + key + RecipeSuffix }

// RecipeBytes is the content of the recipe of image object e in a bundle
// without packs, in tgz order: with a MemberIndex, each member's line
// number in MEMBERS, else each member's path, one per line.
func RecipeBytes(e *Entry) []byte {
	var b strings.Builder
	if e.MemberIndex != nil {
		for _, i := range e.MemberIndex {
			b.WriteString(strconv.Itoa(i + 1))
			b.WriteByte('\n')
		}
		return []byte(b.String())
	}
	for _, m := range e.Members {
		b.WriteString(MemberPath(m))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// MemberTable is the member table of docs/format-v2.md section 6: the
// names of the member entries among entries, sorted, then the members of
// its packs, the packs sorted by path, then the have list's names in
// order.
func MemberTable(entries []Entry, have []Have) []string {
	var t []string
	var packs []*Entry
	for i := range entries {
		e := &entries[i]
		if name, ok := strings.CutPrefix(e.Path, MembersFolder); ok {
			t = append(t, name)
		} else if e.IsPack() {
			packs = append(packs, e)
		}
	}
	slices.Sort(t)
	slices.SortFunc(packs, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) })
	for _, p := range packs {
		t = append(t, p.Members...)
	}
	for _, h := range have {
		t = append(t, h.SHA256)
	}
	return t
}

// hasPacks reports whether entries hold a pack.
func hasPacks(entries []Entry) bool {
	return slices.ContainsFunc(entries, func(e Entry) bool { return e.IsPack() })
}

// TableBytes is the content of MEMBERS for table: one member path per line.
func TableBytes(table []string) []byte {
	var b strings.Builder
	for _, m := range table {
		b.WriteString(MemberPath(m))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// IndexMembers sets e.MemberIndex from e.Members: the positions of its
// members in table, which must hold them all.
func IndexMembers(e *Entry, table []string) error {
	pos := make(map[string]int, len(table))
	for i, name := range table {
		if _, ok := pos[name]; !ok {
			pos[name] = i
		}
	}
	e.MemberIndex = make([]int, len(e.Members))
	for j, name := range e.Members {
		i, ok := pos[name]
		if !ok {
			return &EntryError{e.Path, fmt.Errorf("member %d (%s) is not in the member table", j, name)}
		}
		e.MemberIndex[j] = i
	}
	return nil
}

// expandMembers fills Members of every image read with a member_index
// (rule 5 of section 11: never both, no position outside the table).
func (m *Manifest) expandMembers() error {
	var table []string
	for i := range m.Images {
		im := &m.Images[i]
		if im.MemberIndex == nil {
			continue
		}
		if len(im.Members) > 0 {
			return &EntryError{im.Path, errors.New("has both members and member_index")}
		}
		if table == nil {
			table = MemberTable(m.Entries, m.Have)
		}
		im.Members = make([]string, len(im.MemberIndex))
		for j, p := range im.MemberIndex {
			if p < 0 || p >= len(table) {
				return &EntryError{im.Path, fmt.Errorf("member_index %d: position %d is outside the member table of %d members", j, p, len(table))}
			}
			im.Members[j] = table[p]
		}
	}
	return nil
}

// TGZSums is the content of TGZSUMS for image objects sorted by key: a
// sha256sum file naming each tgz images/<key>.
func TGZSums(images []Entry) []byte {
	var b strings.Builder
	for _, e := range images {
		b.WriteString(e.SHA256 + "  " + e.Path + "\n")
	}
	return []byte(b.String())
}

// ImageObjects returns what lands under image keys: the image entries of
// a format 1 manifest, the image objects of a format 2 one. Each has Path,
// Size, SHA256 and Image; in format 2 also Members, TarSize and Recipe.
func (m *Manifest) ImageObjects() []Entry {
	if m.Format == FormatV2 {
		return m.Images
	}
	var out []Entry
	for _, e := range m.Entries {
		if e.Image != nil {
			out = append(out, e)
		}
	}
	return out
}

// Assembled reports whether e is a format 2 image object, made of members.
func (e *Entry) Assembled() bool { return len(e.Members) > 0 }

func sumOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// validateV2 checks the rules of docs/format-v2.md section 11 that need
// only the manifest (1–5): images made of members the bundle carries, sizes
// that add up, and recipes and TGZSUMS whose listed checksums are those of
// the content the manifest implies, so their bytes, hashed while read,
// can say nothing else. keys are the image keys seen so far.
func (m *Manifest) validateV2(keys map[string]string) error {
	if m.Format != FormatV2 {
		if len(m.Images) > 0 {
			return &EntryError{m.Images[0].Path, fmt.Errorf("an image object is only allowed in format %d", FormatV2)}
		}
		if len(m.Have) > 0 {
			return &HaveError{m.Have[0].SHA256, fmt.Errorf("have is only allowed in format %d", FormatV2)}
		}
		for _, e := range m.Entries {
			if e.Assembled() || e.MemberSizes != nil || e.TarSize != 0 || e.Recipe != "" {
				return &EntryError{e.Path, fmt.Errorf("members, member_sizes, tar_size and recipe are only allowed in format %d", FormatV2)}
			}
		}
		return nil
	}
	imageKeys := map[string]bool{}
	for _, im := range m.Images {
		if im.Image != nil {
			imageKeys[im.Image.Key] = true
		}
	}
	entries := make(map[string]*Entry, len(m.Entries))
	for i := range m.Entries {
		e := &m.Entries[i]
		if key, ok := packKey(e.Path); ok && !imageKeys[key] {
			return &EntryError{e.Path, fmt.Errorf("a pack must be named %s<key>%s after an image of the bundle; no image has key %q", PacksFolder, PackSuffix, key)}
		}
		if e.Image != nil {
			return &EntryError{e.Path, errors.New("an entry has no image in format 2: images are in \"images\"")}
		}
		if e.TarSize != 0 || e.Recipe != "" {
			return &EntryError{e.Path, errors.New("tar_size and recipe belong to image objects, not entries")}
		}
		if strings.HasPrefix(e.Path, HaveFolder) {
			return &EntryError{e.Path, fmt.Errorf("no entry is named under %s: recipes read the bucket's objects there", HaveFolder)}
		}
		if err := checkPack(e); err != nil {
			return err
		}
		if name, ok := strings.CutPrefix(e.Path, MembersFolder); ok && name != e.SHA256 {
			return &EntryError{e.Path, fmt.Errorf("a member entry's path must be %s followed by its sha256 %s", MembersFolder, e.SHA256)}
		}
		entries[e.Path] = e
	}
	haves, err := m.checkHave(entries)
	if err != nil {
		return err
	}
	layout := m.Layout()
	if err := checkDistinct(m.Entries, m.Have); err != nil {
		return err
	}
	packed := hasPacks(m.Entries)
	used := map[string]bool{}
	paths := map[string]bool{}
	var table []string // with an image with member_index
	indexed := slices.ContainsFunc(m.Images, func(e Entry) bool { return e.MemberIndex != nil })
	if indexed {
		table = MemberTable(m.Entries, m.Have)
	}
	switch {
	case packed && entries[TableName] != nil:
		return &EntryError{TableName, errors.New("a bundle with packs has no MEMBERS: its recipes list byte ranges")}
	case packed:
	case indexed:
		if err := wantContent(entries, TableName, TableBytes(table), "its lines must be the member table's paths in order"); err != nil {
			return err
		}
	case entries[TableName] != nil:
		return &EntryError{TableName, errors.New("a bundle whose images list their members by name has no MEMBERS")}
	}
	for i := range m.Images {
		im := &m.Images[i]
		if im.Image == nil {
			return &EntryError{im.Path, errors.New("image object without an image")}
		}
		if err := CheckName(im.Path); err != nil {
			return &EntryError{im.Path, err}
		}
		if paths[im.Path] || entries[im.Path] != nil {
			return &EntryError{im.Path, errors.New("listed twice")}
		}
		paths[im.Path] = true
		if i > 0 && m.Images[i-1].Image.Key >= im.Image.Key {
			return &EntryError{im.Path, errors.New("images are not sorted by key")}
		}
		if im.Size < 0 || !IsSHA256Hex(im.SHA256) {
			return &EntryError{im.Path, errors.New("negative size or malformed sha256")}
		}
		if err := CheckImage(im.Path, im.Image); err != nil {
			return err
		}
		if other, ok := keys[im.Image.Key]; ok {
			return &EntryError{im.Path, fmt.Errorf("key %q is also the key of %s; one image would replace the other", im.Image.Key, other)}
		}
		keys[im.Image.Key] = im.Path
		if im.TarSize <= 0 {
			return &EntryError{im.Path, errors.New("tar_size must be positive")}
		}
		if len(im.Members) == 0 {
			return &EntryError{im.Path, errors.New("an image object lists no members")}
		}
		if im.MemberSizes != nil {
			return &EntryError{im.Path, errors.New("member_sizes belongs to packs, not image objects")}
		}
		var size int64
		for j, name := range im.Members {
			if !IsSHA256Hex(name) {
				return &EntryError{im.Path, fmt.Errorf("member %d (%.64q) is not 64 lowercase hex digits", j, name)}
			}
			w, ok := layout[name]
			if !ok {
				return &EntryError{im.Path, fmt.Errorf("member %d (%s) of %s is neither in the bundle nor in its have list", j, name, im.Image.Key)}
			}
			if haves[name] != nil {
				used["have:"+name] = true
			} else {
				used[name] = true
			}
			size += w.Size
			if size < 0 {
				return &EntryError{im.Path, errors.New("member sizes overflow")}
			}
		}
		if size != im.Size {
			return &EntryError{im.Path, fmt.Errorf("size %d is not the sum of its members' sizes, %d", im.Size, size)}
		}
		if im.MemberIndex != nil {
			if len(im.MemberIndex) != len(im.Members) {
				return &EntryError{im.Path, errors.New("member_index and members differ in length")}
			}
			for j, p := range im.MemberIndex {
				if p < 0 || p >= len(table) || table[p] != im.Members[j] {
					return &EntryError{im.Path, fmt.Errorf("member_index %d (position %d) is not member %s of the member table", j, p, im.Members[j])}
				}
			}
		}
		if im.Recipe != RecipePath(im.Image.Key) {
			return &EntryError{im.Path, fmt.Errorf("recipe %q: want %s", im.Recipe, RecipePath(im.Image.Key))}
		}
		recipe, rule := RecipeBytes(im), "its lines must be the image's members in order"
		if packed {
			recipe, rule = layout.Recipe(im), "its lines must be where the image's members lie, in order"
		}
		if err := wantContent(entries, im.Recipe, recipe, rule); err != nil {
			return err
		}
		used[im.Recipe] = true
	}
	for _, h := range m.Have {
		if _, ok := keys[h.Key]; ok {
			return &HaveError{h.SHA256, fmt.Errorf("key %s is the key of an image of this bundle: import would replace what it reads", h.Key)}
		}
		if !used["have:"+h.SHA256] {
			return &HaveError{h.SHA256, errors.New("no image uses it")}
		}
	}
	for path, e := range entries {
		if name, ok := strings.CutPrefix(path, MembersFolder); ok && !used[name] {
			return &EntryError{path, errors.New("a member no image uses")}
		}
		for j, name := range e.Members {
			if !used[name] {
				return &EntryError{path, fmt.Errorf("member %d (%s) of the pack: no image uses it", j, name)}
			}
		}
		if strings.HasPrefix(path, RecipesFolder) && !used[path] {
			return &EntryError{path, errors.New("a recipe of no image")}
		}
	}
	if len(m.Images) > 0 {
		if err := wantContent(entries, TGZSumsName, TGZSums(m.Images), "it must list each image's sha256 and images/<key>, sorted by key"); err != nil {
			return err
		}
	} else if entries[TGZSumsName] != nil {
		return &EntryError{TGZSumsName, errors.New("a bundle without images has no TGZSUMS")}
	}
	return nil
}

// checkPack checks the member list of entry e, which only a pack has: at
// least one member, each named by 64 lowercase hex digits with a positive
// size, the sizes adding up to the entry's.
func checkPack(e *Entry) error {
	if !e.IsPack() {
		if e.Assembled() || e.MemberSizes != nil || e.MemberIndex != nil {
			return &EntryError{e.Path, errors.New("members and member_sizes belong to packs and image objects, not other entries")}
		}
		return nil
	}
	if e.MemberIndex != nil {
		return &EntryError{e.Path, errors.New("a pack names its members; member_index belongs to image objects")}
	}
	if _, ok := packKey(e.Path); !ok {
		return &EntryError{e.Path, fmt.Errorf("a pack's path must be %s<key>%s", PacksFolder, PackSuffix)}
	}
	if len(e.Members) == 0 || len(e.MemberSizes) != len(e.Members) {
		return &EntryError{e.Path, fmt.Errorf("a pack lists %d members and %d member_sizes; it needs at least one member and a size for each", len(e.Members), len(e.MemberSizes))}
	}
	var sum int64
	for j, name := range e.Members {
		if !IsSHA256Hex(name) {
			return &EntryError{e.Path, fmt.Errorf("member %d (%.64q) of the pack is not 64 lowercase hex digits", j, name)}
		}
		if n := e.MemberSizes[j]; n <= 0 || sum > math.MaxInt64-n {
			return &EntryError{e.Path, fmt.Errorf("member %d (%s) of the pack: size %d is not positive or the sizes overflow", j, name, n)}
		}
		sum += e.MemberSizes[j]
	}
	if sum != e.Size {
		return &EntryError{e.Path, fmt.Errorf("size %d is not the sum of its member_sizes, %d", e.Size, sum)}
	}
	return nil
}

// packKey is the image key a pack path names.
func packKey(path string) (string, bool) {
	key, ok := strings.CutPrefix(path, PacksFolder)
	if !ok {
		return "", false
	}
	key, ok = strings.CutSuffix(key, PackSuffix)
	return key, ok && key != ""
}

// checkDistinct checks that no member name is carried twice, in two packs
// or a pack and a member entry, or both carried and in have (rule 3).
func checkDistinct(entries []Entry, have []Have) error {
	type copyOf struct {
		where  string
		size   int64
		inPack bool
	}
	seen := map[string]copyOf{}
	note := func(name, where string, size int64, inPack bool) error {
		prev, ok := seen[name]
		switch {
		case !ok:
			seen[name] = copyOf{where, size, inPack}
		case !inPack || !prev.inPack:
			return &EntryError{where, fmt.Errorf("member %s is also in %s: only packs may hold a member twice", name, prev.where)}
		case size != prev.size:
			return &EntryError{where, fmt.Errorf("member %s is %d bytes here and %d in %s: copies of one member hold the same bytes", name, size, prev.size, prev.where)}
		}
		return nil
	}
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Path, MembersFolder); ok {
			if err := note(name, e.Path, e.Size, false); err != nil {
				return err
			}
		}
		for i, name := range e.Members {
			if err := note(name, e.Path, e.MemberSizes[i], true); err != nil {
				return err
			}
		}
	}
	for _, h := range have {
		if prev, ok := seen[h.SHA256]; ok {
			return &HaveError{h.SHA256, fmt.Errorf("both carried (in %s) and in the have list", prev.where)}
		}
	}
	return nil
}

// checkHave checks every have reference on its own (rule 6) and that none
// is also carried (rule 3), returning them by name.
func (m *Manifest) checkHave(entries map[string]*Entry) (map[string]*Have, error) {
	haves := make(map[string]*Have, len(m.Have))
	for i := range m.Have {
		h := &m.Have[i]
		fail := func(format string, args ...any) (map[string]*Have, error) {
			return nil, &HaveError{h.SHA256, fmt.Errorf(format, args...)}
		}
		switch {
		case !IsSHA256Hex(h.SHA256):
			return fail("the name is not 64 lowercase hex digits")
		case i > 0 && m.Have[i-1].SHA256 >= h.SHA256:
			return fail("listed twice or out of sha256 order")
		case entries[MemberPath(h.SHA256)] != nil:
			return fail("both carried and in the have list")
		case h.Offset < 0 || h.Length <= 0 || h.Offset > math.MaxInt64-h.Length:
			return fail("offset %d and length %d do not describe bytes of an object", h.Offset, h.Length)
		case !IsSHA256Hex(h.ObjectSHA256):
			return fail("object_sha256 is not 64 lowercase hex digits")
		}
		if err := concourse.ValidateKey(h.Key); err != nil {
			return fail("key: %w", err)
		}
		haves[h.SHA256] = h
	}
	return haves, nil
}

// wantContent checks that the entry at path is listed with the size and
// sha256 of want.
func wantContent(entries map[string]*Entry, path string, want []byte, rule string) error {
	e := entries[path]
	if e == nil {
		return &EntryError{path, errors.New("missing from the entries")}
	}
	if e.Size != int64(len(want)) || e.SHA256 != sumOf(want) {
		return &EntryError{path, fmt.Errorf("does not agree with the manifest: %s", rule)}
	}
	return nil
}
