package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"
)

func hexOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// goodV2 is a valid format 2 manifest: two images sharing a member.
func goodV2() *Manifest {
	m := &Manifest{Format: FormatV2, Created: time.Unix(1700000000, 0).UTC(), Signer: "0123456789abcdef"}
	shared, a, b := []byte("shared"), []byte("a"), []byte("b")
	for _, body := range [][]byte{shared, a, b} {
		m.Entries = append(m.Entries, Entry{Path: MemberPath(hexOf(body)), Size: int64(len(body)), SHA256: hexOf(body)})
	}
	for _, im := range []struct {
		name string
		own  []byte
	}{{"app", a}, {"tool", b}} {
		key := im.name + "/" + im.name + "-1.0.tgz"
		whole := append(append([]byte(nil), im.own...), shared...)
		m.Images = append(m.Images, Entry{Path: ImagesFolder + key, Size: int64(len(whole)), SHA256: hexOf(whole),
			Image:   &Image{Name: im.name, Version: "1.0", Key: key},
			TarSize: 10, Members: []string{hexOf(im.own), hexOf(shared)}, Recipe: RecipePath(key)})
	}
	for i := range m.Images {
		r := RecipeBytes(&m.Images[i])
		m.Entries = append(m.Entries, Entry{Path: m.Images[i].Recipe, Size: int64(len(r)), SHA256: hexOf(r)})
	}
	s := TGZSums(m.Images)
	m.Entries = append(m.Entries, Entry{Path: TGZSumsName, Size: int64(len(s)), SHA256: hexOf(s)})
	return m
}

func TestValidateV2(t *testing.T) {
	if err := goodV2().Validate(); err != nil {
		t.Fatalf("good format 2 manifest: %v", err)
	}
	cases := map[string]struct {
		change func(m *Manifest)
		want   string // in the error
	}{
		"members in format 1": {func(m *Manifest) {
			m.Format, m.Images = FormatV1, nil
			m.Entries[0].Members = []string{m.Entries[0].SHA256}
		}, "only allowed in format 2"},
		"images in format 1":     {func(m *Manifest) { m.Format = FormatV1 }, "only allowed in format 2"},
		"an entry with an image": {func(m *Manifest) { m.Entries[0].Image = m.Images[0].Image }, "has no image in format 2"},
		"unsorted images":        {func(m *Manifest) { m.Images[0], m.Images[1] = m.Images[1], m.Images[0] }, "sorted by key"},
		"no members":             {func(m *Manifest) { m.Images[0].Members = nil }, "lists no members"},
		"a member name not hex":  {func(m *Manifest) { m.Images[0].Members[0] = "../../etc/passwd" }, "64 lowercase hex"},
		"a member not carried":   {func(m *Manifest) { m.Images[0].Members[0] = hexOf([]byte("x")) }, "member 0 (" + hexOf([]byte("x")) + ") of app/app-1.0.tgz is neither in the bundle nor in its have list"},
		"sizes do not add up":    {func(m *Manifest) { m.Images[1].Size = 99 }, "not the sum"},
		"no tar size":            {func(m *Manifest) { m.Images[0].TarSize = 0 }, "tar_size"},
		"recipe elsewhere":       {func(m *Manifest) { m.Images[0].Recipe = "recipes/../x" }, "recipe"},
		"recipe content differs": {func(m *Manifest) {
			m.Images[0].Members[1], m.Images[0].Members[0] = m.Images[0].Members[0], m.Images[0].Members[1]
		}, "members in order"},
		"member path not its name": {func(m *Manifest) { m.Entries[0].Path = MemberPath(hexOf([]byte("other"))) }, "followed by its sha256"},
		"an unused member": {func(m *Manifest) {
			m.Entries = append(m.Entries, Entry{Path: MemberPath(hexOf([]byte("u"))), Size: 1, SHA256: hexOf([]byte("u"))})
		}, "no image uses"},
		"image path is an entry too": {func(m *Manifest) {
			m.Entries = append(m.Entries, Entry{Path: m.Images[0].Path, Size: 1, SHA256: hexOf([]byte("u"))})
		}, "listed twice"},
		"no TGZSUMS":                    {func(m *Manifest) { m.Entries = m.Entries[:len(m.Entries)-1] }, "TGZSUMS"},
		"image path does not match key": {func(m *Manifest) { m.Images[0].Path = ImagesFolder + "app/other.tgz" }, "does not match"},
	}
	for name, tc := range cases {
		m := goodV2()
		tc.change(m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// withHave is goodV2 with its shared member moved from the bundle to the
// have list: a delta against a bucket holding base/base-1.0.tgz.
func withHave() *Manifest {
	m := goodV2()
	shared := m.Entries[0]
	m.Entries = m.Entries[1:]
	m.Have = []Have{{SHA256: shared.SHA256, Key: "base/base-1.0.tgz", Offset: 100, Length: shared.Size, ObjectSHA256: hexOf([]byte("base"))}}
	return m
}

func TestValidateHave(t *testing.T) {
	if err := withHave().Validate(); err != nil {
		t.Fatalf("good delta: %v", err)
	}
	cases := map[string]struct {
		change func(m *Manifest)
		want   string
	}{
		"in format 1":        {func(m *Manifest) { m.Format, m.Images = FormatV1, nil }, "only allowed in format 2"},
		"carried too":        {func(m *Manifest) { m.Entries = goodV2().Entries }, "both carried and in the have list"},
		"listed twice":       {func(m *Manifest) { m.Have = append(m.Have, m.Have[0]) }, "listed twice"},
		"negative offset":    {func(m *Manifest) { m.Have[0].Offset = -1 }, "do not describe"},
		"zero length":        {func(m *Manifest) { m.Have[0].Length = 0 }, "do not describe"},
		"overflowing offset": {func(m *Manifest) { m.Have[0].Offset = 1<<63 - 2 }, "do not describe"},
		"bad key":            {func(m *Manifest) { m.Have[0].Key = "../base.tgz" }, "key"},
		"an image's key":     {func(m *Manifest) { m.Have[0].Key = "app/app-1.0.tgz" }, "key of an image of this bundle"},
		"bad object sum":     {func(m *Manifest) { m.Have[0].ObjectSHA256 = "x" }, "object_sha256"},
		"unused": {func(m *Manifest) {
			m.Have = append(m.Have, Have{SHA256: "ff" + m.Have[0].SHA256[2:], Key: "base/base-1.0.tgz", Length: 1, ObjectSHA256: m.Have[0].ObjectSHA256})
		}, "no image uses it"},
		"length not the member's": {func(m *Manifest) { m.Have[0].Length++ }, "not the sum"},
	}
	for name, tc := range cases {
		m := withHave()
		tc.change(m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// TestParseExpandsMemberIndex: member_index reads as the members at those
// positions of the member table; both lists, or a position outside the
// table, are refused.
func TestParseExpandsMemberIndex(t *testing.T) {
	a, b := strings.Repeat("b", 64), strings.Repeat("a", 64)
	m := Manifest{Format: FormatV2, Entries: []Entry{{Path: MemberPath(a)}, {Path: MemberPath(b)}},
		Images: []Entry{{Path: "images/x/x-1.tgz", MemberIndex: []int{1, 0, 1}}}}
	if err := m.expandMembers(); err != nil {
		t.Fatal(err)
	}
	// The table is sorted: b ("aaa…") first.
	if got := m.Images[0].Members; !slices.Equal(got, []string{a, b, a}) {
		t.Errorf("members %v, want positions 1, 0, 1 of the sorted table", got)
	}
	both := m
	both.Images = []Entry{{Path: "images/x/x-1.tgz", Members: []string{a}, MemberIndex: []int{0}}}
	if err := both.expandMembers(); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("both lists: %v", err)
	}
	outside := m
	outside.Images = []Entry{{Path: "images/x/x-1.tgz", MemberIndex: []int{2}}}
	if err := outside.expandMembers(); err == nil || !strings.Contains(err.Error(), "outside the member table") {
		t.Errorf("position 2 of 2: %v", err)
	}
	out, err := (&Manifest{Format: FormatV2, Images: []Entry{{Path: "p", Members: []string{a}, MemberIndex: []int{0}}}}).Marshal()
	if err != nil || strings.Contains(string(out), `"members"`) || !strings.Contains(string(out), `"member_index"`) {
		t.Errorf("Marshal writes member_index instead of members: %s, %v", out, err)
	}
}

// packedV2 is goodV2 as this version writes it: each image's pack holds
// the members it is the first to use (app: its own and the shared one;
// tool: its own), and the recipes are byte ranges.
func packedV2() *Manifest { return packed(goodV2()) }

// packed moves m's member entries into packs, as packedV2 says.
func packed(m *Manifest) *Manifest { return packedWhole(m, "") }

// packedWhole is packed, with the pack of the image with key whole: all
// its members, those an earlier pack holds too.
func packedWhole(m *Manifest, key string) *Manifest {
	byName := map[string]Entry{}
	for _, e := range m.Entries {
		if name, ok := strings.CutPrefix(e.Path, MembersFolder); ok {
			byName[name] = e
		}
	}
	m.Entries = nil
	seen := map[string]bool{}
	for _, im := range m.Images {
		p := Entry{Path: PackPath(im.Image.Key)}
		var body []byte
		for _, name := range im.Members {
			if _, ok := byName[name]; !ok || seen[name] && im.Image.Key != key {
				continue
			}
			seen[name] = true
			p.Members = append(p.Members, name)
			p.MemberSizes = append(p.MemberSizes, byName[name].Size)
			body = append(body, memberBodies[name]...)
		}
		if len(p.Members) > 0 {
			p.Size, p.SHA256 = int64(len(body)), hexOf(body)
			m.Entries = append(m.Entries, p)
		}
	}
	l := m.Layout()
	for i := range m.Images {
		r := l.Recipe(&m.Images[i])
		m.Entries = append(m.Entries, Entry{Path: m.Images[i].Recipe, Size: int64(len(r)), SHA256: hexOf(r)})
	}
	s := TGZSums(m.Images)
	m.Entries = append(m.Entries, Entry{Path: TGZSumsName, Size: int64(len(s)), SHA256: hexOf(s)})
	return m
}

var memberBodies = map[string][]byte{hexOf([]byte("shared")): []byte("shared"), hexOf([]byte("a")): []byte("a"), hexOf([]byte("b")): []byte("b")}

func TestValidatePacks(t *testing.T) {
	m := packedV2()
	if err := m.Validate(); err != nil {
		t.Fatalf("good packed manifest: %v", err)
	}
	// app's members a, shared follow each other in its pack: one line.
	app := m.Layout().Recipe(&m.Images[0])
	if want := "packs/app/app-1.0.tgz.pack 0 7\n"; string(app) != want {
		t.Errorf("app's recipe %q, want %q", app, want)
	}
	// tool's own member is in its pack, the shared one in app's.
	tool := m.Layout().Recipe(&m.Images[1])
	if want := "packs/tool/tool-1.0.tgz.pack 0 1\npacks/app/app-1.0.tgz.pack 1 6\n"; string(tool) != want {
		t.Errorf("tool's recipe %q, want %q", tool, want)
	}
	if table := MemberTable(m.Entries, nil); !slices.Equal(table, []string{hexOf([]byte("a")), hexOf([]byte("shared")), hexOf([]byte("b"))}) {
		t.Errorf("member table %v: want app's pack, then tool's", table)
	}
	cases := map[string]struct {
		change func(m *Manifest)
		want   string
	}{
		"pack of no image":         {func(m *Manifest) { m.Entries[1].Path = PackPath("other/other-1.0.tgz") }, `no image has key "other/other-1.0.tgz"`},
		"pack path without suffix": {func(m *Manifest) { m.Entries[1].Path = PacksFolder + "tool/tool-1.0.tgz" }, "a pack's path must be packs/<key>.pack"},
		"sizes do not add up":      {func(m *Manifest) { m.Entries[0].MemberSizes[0] = 2 }, "not the sum of its member_sizes"},
		"a zero size":              {func(m *Manifest) { m.Entries[0].MemberSizes = []int64{0, 7} }, "is not positive"},
		"fewer sizes":              {func(m *Manifest) { m.Entries[0].MemberSizes = []int64{7} }, "2 members and 1 member_sizes"},
		"a name not hex":           {func(m *Manifest) { m.Entries[1].Members[0] = "../../x" }, "64 lowercase hex"},
		"a member in two packs, of two sizes": {func(m *Manifest) {
			m.Entries[1].Members = append(m.Entries[1].Members, m.Entries[0].Members[1])
			m.Entries[1].MemberSizes = append(m.Entries[1].MemberSizes, 5)
			m.Entries[1].Size += 5
		}, "is 5 bytes here and 6 in packs/app/app-1.0.tgz.pack"},
		"a member in a pack and an entry": {func(m *Manifest) {
			e := m.Entries[0]
			e.Path, e.Size, e.SHA256 = MemberPath(e.Members[1]), 6, e.Members[1]
			e.Members, e.MemberSizes = nil, nil
			m.Entries = append(m.Entries, e)
		}, "only packs may hold a member twice"},
		"a member no image uses": {func(m *Manifest) {
			m.Entries[1].Members = append(m.Entries[1].Members, hexOf([]byte("u")))
			m.Entries[1].MemberSizes = append(m.Entries[1].MemberSizes, 1)
			m.Entries[1].Size++
		}, "no image uses it"},
		"members on a recipe":      {func(m *Manifest) { m.Entries[2].Members = []string{hexOf([]byte("a"))} }, "belong to packs and image objects"},
		"member_sizes on an image": {func(m *Manifest) { m.Images[0].MemberSizes = []int64{1, 6} }, "member_sizes belongs to packs"},
		"a MEMBERS besides packs": {func(m *Manifest) {
			m.Entries = append(m.Entries, Entry{Path: TableName, Size: 1, SHA256: hexOf([]byte("x"))})
		}, "a bundle with packs has no MEMBERS"},
		"a recipe of member lines": {func(m *Manifest) {
			r := RecipeBytes(&m.Images[0])
			m.Entries[2].Size, m.Entries[2].SHA256 = int64(len(r)), hexOf(r)
		}, "where the image's members lie"},
		"carried and in have": {func(m *Manifest) {
			m.Have = []Have{{SHA256: hexOf([]byte("b")), Key: "base/base-1.0.tgz", Length: 1, ObjectSHA256: hexOf([]byte("base"))}}
		}, "both carried (in packs/tool/tool-1.0.tgz.pack) and in the have list"},
	}
	for name, tc := range cases {
		m := packedV2()
		tc.change(m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want an error saying %q", name, err, tc.want)
		}
	}
	// A pack may be its image's whole tgz, holding again a member an
	// earlier pack holds; recipes point at the first copy.
	w := packedWhole(goodV2(), "tool/tool-1.0.tgz")
	if err := w.Validate(); err != nil {
		t.Fatalf("a whole pack repeating a member: %v", err)
	}
	if got := w.Entries[1]; got.Path != PackPath("tool/tool-1.0.tgz") || got.SHA256 != w.Images[1].SHA256 {
		t.Fatalf("tool's pack %s (%s) is not its whole tgz %s", got.Path, got.SHA256, w.Images[1].SHA256)
	}
	if got, want := string(w.Layout().Recipe(&w.Images[1])), "packs/tool/tool-1.0.tgz.pack 0 1\npacks/app/app-1.0.tgz.pack 1 6\n"; got != want {
		t.Errorf("tool's recipe with a whole pack %q, want %q", got, want)
	}
	if table := MemberTable(w.Entries, nil); len(table) != 4 || table[1] != table[3] {
		t.Errorf("member table %v: want the shared member at positions 1 and 3", table)
	}

	// A delta's have members are read from the objects holding them,
	// fetched under have/: members that follow each other there merge.
	d := packed(withHave())
	if err := d.Validate(); err != nil {
		t.Fatalf("packed delta: %v", err)
	}
	if got, want := string(d.Layout().Recipe(&d.Images[1])), "packs/tool/tool-1.0.tgz.pack 0 1\nhave/base/base-1.0.tgz 100 6\n"; got != want {
		t.Errorf("tool's recipe in the delta %q, want %q", got, want)
	}
	d.Entries = append(d.Entries, Entry{Path: HaveFolder + "base/base-1.0.tgz", Size: 1, SHA256: hexOf([]byte("x"))})
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "no entry is named under have/") {
		t.Errorf("an entry under have/: %v", err)
	}

	// A round trip through Marshal and Parse keeps the packs and expands
	// member_index against their table.
	m = packedV2()
	table := MemberTable(m.Entries, nil)
	for i := range m.Images {
		if err := IndexMembers(&m.Images[i], table); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse of a packed manifest: %v", err)
	}
	if !slices.Equal(back.Images[1].Members, m.Images[1].Members) || !slices.Equal(back.Entries[0].MemberSizes, m.Entries[0].MemberSizes) {
		t.Errorf("round trip changed the members: %v, %v", back.Images[1].Members, back.Entries[0].MemberSizes)
	}
}
