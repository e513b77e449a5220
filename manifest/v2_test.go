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
