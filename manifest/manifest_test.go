package manifest

import (
	"archive/tar"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestParseSums(t *testing.T) {
	good := hexA + "  manifest.json\n" + strings.Repeat("b", 64) + "  images/ubuntu/ubuntu-22.04.tgz\n"
	sums, err := ParseSums([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[1].Name != "images/ubuntu/ubuntu-22.04.tgz" || sums[0].SHA256 != hexA {
		t.Fatalf("parsed %+v", sums)
	}
	if got := string(FormatSums(sums)); got != good {
		t.Fatalf("round trip changed the text:\n%s", got)
	}
	bad := map[string]string{
		"empty":           "",
		"no newline":      hexA + "  a",
		"one space":       hexA + " a\n",
		"binary marker":   hexA + " *a\n",
		"uppercase hex":   strings.ToUpper(hexA) + "  a\n",
		"short hex":       hexA[:60] + "  a\n",
		"duplicate":       hexA + "  a\n" + hexA + "  a\n",
		"dot dot":         hexA + "  ../a\n",
		"absolute":        hexA + "  /etc/passwd\n",
		"blank line":      hexA + "  a\n\n",
		"backslash name":  hexA + "  a\\b\n",
		"unclean path":    hexA + "  a//b\n",
		"space in name":   hexA + "  a b\n",
		"carriage return": hexA + "  a\r\n",
	}
	for name, text := range bad {
		if _, err := ParseSums([]byte(text)); err == nil {
			t.Errorf("%s: accepted %q", name, text)
		}
	}
}

func TestManifestAgainstSums(t *testing.T) {
	m := &Manifest{Format: FormatVersion, Created: time.Unix(0, 0).UTC(), Signer: "k", Entries: []Entry{
		{Path: "images/a.tgz", Size: 3, SHA256: hexA},
	}}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	msum := strings.Repeat("c", 64)
	if err := parsed.CheckAgainst(m.Sums(msum), msum); err != nil {
		t.Fatalf("matching sums rejected: %v", err)
	}
	extra := append(m.Sums(msum), Sum{Name: "images/b.tgz", SHA256: hexA})
	if err := parsed.CheckAgainst(extra, msum); err == nil || !strings.Contains(err.Error(), "images/b.tgz") {
		t.Errorf("extra sum: err = %v", err)
	}
	changed := m.Sums(msum)
	changed[1].SHA256 = strings.Repeat("d", 64)
	if err := parsed.CheckAgainst(changed, msum); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("changed sum: err = %v", err)
	}
	if err := parsed.CheckAgainst(m.Sums(msum)[:1], msum); err == nil {
		t.Error("missing sum accepted")
	}
}

func TestParseRejects(t *testing.T) {
	for name, text := range map[string]string{
		"not json":       "hello",
		"future format":  `{"format": 3, "entries": []}`,
		"unsafe path":    `{"format": 1, "entries": [{"path": "../x", "size": 1, "sha256": "` + hexA + `"}]}`,
		"reserved name":  `{"format": 1, "entries": [{"path": "SHA256SUMS", "size": 1, "sha256": "` + hexA + `"}]}`,
		"bad checksum":   `{"format": 1, "entries": [{"path": "x", "size": 1, "sha256": "nothex"}]}`,
		"negative size":  `{"format": 1, "entries": [{"path": "x", "size": -1, "sha256": "` + hexA + `"}]}`,
		"duplicate path": `{"format": 1, "entries": [{"path": "x", "size": 1, "sha256": "` + hexA + `"}, {"path": "x", "size": 1, "sha256": "` + hexA + `"}]}`,
	} {
		if _, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseSums(f *testing.F) {
	f.Add(goldenEntry(f, SumsName))
	f.Add([]byte(hexA + "  manifest.json\n" + hexA + "  images/a/a-1.tgz\n"))
	f.Add([]byte(hexA + "  ../x\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		sums, err := ParseSums(data)
		if err != nil {
			return
		}
		if string(FormatSums(sums)) != string(data) {
			t.Fatalf("accepted input does not round-trip: %q", data)
		}
		for _, s := range sums {
			if CheckName(s.Name) != nil || !IsSHA256Hex(s.SHA256) {
				t.Fatalf("accepted unsafe line %+v", s)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(goldenEntry(f, ManifestName))
	f.Add([]byte(`{"format": 1, "created": "2026-11-01T00:00:00Z", "signer": "k", "entries": [{"path": "images/a.tgz", "size": 3, "sha256": "` + hexA + `", "image": {"name": "a", "version": "1"}}]}`))
	f.Add([]byte(`{"format": 1, "entries": [{"path": "../x"}]}`))
	f.Add([]byte(`{"format": 1, "entries": [{"path": "images/a/a-1.tgz", "size": 3, "sha256": "` + hexA + `", "image": {"name": "a", "version": "1", "key": "a/a-1.tgz", "regexp": "a/a-(.*)\\.tgz"}}]}`))
	f.Add([]byte(`{"format": 1, "entries": [{"path": "images/a/a-1.tgz", "size": 3, "sha256": "` + hexA + `", "image": {"name": "a", "version": "1", "key": "a/a-1.tgz", "compression": "fast"}}]}`))
	f.Add([]byte(`{"format": 1, "entries": [{"path": "images/a/a-1.tgz", "size": 3, "sha256": "` + hexA + `", "image": {"name": "a", "version": "1", "key": "a/a-1.tgz", ` +
		`"lint": {"files": 2, "uncompressed_size": 9, "findings": [{"check": "capability", "severity": "warning", "path": "bin/ping", "message": "dropped"}, {"check": "size", "severity": "info", "message": "\u00e9"}], "omitted": {"setuid": 3}}}}]}`))
	f.Add([]byte(`{"format": 1, "entries": [{"path": "images/a/a-1.tgz", "size": 3, "sha256": "` + hexA + `", "image": {"name": "a", "version": "1", "key": "a/a-1.tgz", ` +
		`"signature": {"status": "verified", "checked": "2026-11-01T00:00:00Z", "signed_digest": "sha256:` + hexA + `", "bundles": ["sha256:` + hexA + `"], ` +
		`"identities": [{"subject": "https://github.com/a/b", "issuer": "https://token.actions.githubusercontent.com"}], ` +
		`"attestations": [{"predicate_type": "https://cyclonedx.org/bom", "manifest": "sha256:` + hexA + `", "bundle": "sha256:` + hexA + `", "format": "dsse"}]}}}]}`))
	for _, m := range []*Manifest{goodV2(), withHave(), packedV2()} {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		for _, im := range m.ImageObjects() {
			for _, name := range im.Members {
				if !IsSHA256Hex(name) {
					t.Fatalf("accepted member name %q", name)
				}
			}
			if im.Assembled() && (im.Size < 0 || CheckImage(im.Path, im.Image) != nil) {
				t.Fatalf("accepted bad image object %+v", im)
			}
		}
		for _, h := range m.Have {
			if h.Offset < 0 || h.Length <= 0 || !IsSHA256Hex(h.SHA256) || !IsSHA256Hex(h.ObjectSHA256) {
				t.Fatalf("accepted bad have %+v", h)
			}
		}
		for _, e := range m.Entries {
			if CheckName(e.Path) != nil || isReserved(e.Path) || e.Size < 0 || !IsSHA256Hex(e.SHA256) {
				t.Fatalf("accepted unsafe entry %+v", e)
			}
			if e.Image != nil && CheckImage(e.Path, e.Image) != nil {
				t.Fatalf("accepted bad image entry %+v", e)
			}
			var sum int64
			for i, n := range e.MemberSizes {
				if n <= 0 || i >= len(e.Members) || !IsSHA256Hex(e.Members[i]) {
					t.Fatalf("accepted bad pack %+v", e)
				}
				sum += n
			}
			if e.Members != nil && (!e.IsPack() || len(e.MemberSizes) != len(e.Members) || sum != e.Size) {
				t.Fatalf("accepted members on entry %+v", e)
			}
		}
		// ...and every range a recipe gives lies inside a pack, a member
		// file or a fetched object of the bucket, under a clean name.
		layout := m.Layout()
		for _, im := range m.ImageObjects() {
			for _, w := range layout.Ranges(&im) {
				inside := strings.HasPrefix(w.Path, PacksFolder) || strings.HasPrefix(w.Path, MembersFolder) || strings.HasPrefix(w.Path, HaveFolder)
				if !inside || CheckName(w.Path) != nil || w.Offset < 0 || w.Size <= 0 {
					t.Fatalf("accepted a recipe range %+v", w)
				}
			}
		}
		// What a reader accepts, a writer can write again unchanged...
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("accepted manifest, marshalled again, is rejected: %v\n%s", err, out)
		}
		if out2, _ := again.Marshal(); string(out2) != string(out) {
			t.Fatalf("manifest changes on a second round trip:\n%s\n%s", out, out2)
		}
		// ...and list in a SHA256SUMS that readers accept and that matches it.
		sums, err := ParseSums(FormatSums(m.Sums(hexA)))
		if err != nil {
			t.Fatalf("the SHA256SUMS of an accepted manifest is rejected: %v", err)
		}
		if err := m.CheckAgainst(sums, hexA); err != nil {
			t.Fatalf("an accepted manifest disagrees with its own sums: %v", err)
		}
	})
}

// goldenEntry returns an entry of the committed golden bundle, so the
// fuzzers start from what airlock really writes.
func goldenEntry(f *testing.F, name string) []byte {
	f.Helper()
	const golden = "../bundle/testdata/golden/hello.tar"
	file, err := os.Open(golden)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	tr := tar.NewReader(file)
	for {
		h, err := tr.Next()
		if err != nil {
			f.Fatalf("%s: no entry %s: %v", golden, name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				f.Fatal(err)
			}
			return b
		}
	}
}
