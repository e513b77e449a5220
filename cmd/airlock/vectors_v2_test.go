package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// vectorMembers is a tiny rootfs tgz of format 2 (docs/format-v2.md
// sections 3-4): the head run (metadata.json, rootfs/), one run of the
// image's files, the tail; each a gzip member of its own.
func vectorMembers(t *testing.T, app string) [][]byte {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	var cuts []int
	write := func(name string, body []byte) {
		h := &tar.Header{Name: name, Mode: 0o644, ModTime: vectorCreated, Typeflag: tar.TypeReg, Size: int64(len(body))}
		if body == nil {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
		tw.Flush()
	}
	write("metadata.json", []byte(`{"cmd":["/app"],"entrypoint":null,"env":["PATH=/usr/bin:/bin"],"user":"1000"}`+"\n"))
	write("rootfs/", nil)
	cuts = append(cuts, tarBuf.Len())
	write("rootfs/app", []byte(app))
	write("rootfs/etc/os-release", []byte("ID=vectors\n"))
	cuts = append(cuts, tarBuf.Len())
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := tarBuf.Bytes()
	var out [][]byte
	from := 0
	for _, to := range append(cuts, len(raw)) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		zw.Write(raw[from:to])
		zw.Close()
		out = append(out, b.Bytes())
		from = to
	}
	return out
}

// v2Layout is a format 2 bundle's payload entries and image objects.
type v2Layout struct {
	entries []manifest.Entry
	bodies  [][]byte
	images  []manifest.Entry
	packed  bool // members in packs: recipes are byte ranges
}

// pack moves l's member entries into packs, as writers of this version
// carry them: each image's pack holds the members it is the first to use
// (docs/format-v2.md section 6), and images list them by member_index.
// wholePack makes the pack of image i (after l.pack) its whole tgz: every
// member of the image in order, those another pack carries included.
func (l *v2Layout) wholePack(i int) {
	bodies := map[string][]byte{}
	for j, e := range l.entries {
		var off int64
		for k, name := range e.Members {
			bodies[name] = l.bodies[j][off : off+e.MemberSizes[k]]
			off += e.MemberSizes[k]
		}
	}
	p := manifest.Entry{Path: manifest.PackPath(l.images[i].Image.Key)}
	var body []byte
	for _, name := range l.images[i].Members {
		p.Members = append(p.Members, name)
		p.MemberSizes = append(p.MemberSizes, int64(len(bodies[name])))
		body = append(body, bodies[name]...)
	}
	p.Size, p.SHA256 = int64(len(body)), sha256Hex(body)
	for j := range l.entries {
		if l.entries[j].Path == p.Path {
			l.entries[j], l.bodies[j] = p, body
		}
	}
	table := manifest.MemberTable(l.entries, nil)
	for j := range l.images {
		if err := manifest.IndexMembers(&l.images[j], table); err != nil {
			panic(err) // every member is in a pack
		}
	}
}

func (l *v2Layout) pack(t *testing.T) {
	bodies := map[string][]byte{}
	var entries []manifest.Entry
	var rest [][]byte
	for i, e := range l.entries {
		if name, ok := strings.CutPrefix(e.Path, manifest.MembersFolder); ok {
			bodies[name] = l.bodies[i]
		} else {
			entries, rest = append(entries, e), append(rest, l.bodies[i])
		}
	}
	l.entries, l.bodies, l.packed = nil, nil, true
	seen := map[string]bool{}
	for _, im := range l.images {
		p := manifest.Entry{Path: manifest.PackPath(im.Image.Key)}
		var body []byte
		for _, name := range im.Members {
			if !seen[name] {
				seen[name] = true
				p.Members = append(p.Members, name)
				p.MemberSizes = append(p.MemberSizes, int64(len(bodies[name])))
				body = append(body, bodies[name]...)
			}
		}
		if len(p.Members) > 0 {
			p.Size, p.SHA256 = int64(len(body)), sha256Hex(body)
			l.entries, l.bodies = append(l.entries, p), append(l.bodies, body)
		}
	}
	l.entries, l.bodies = append(l.entries, entries...), append(l.bodies, rest...)
	table := manifest.MemberTable(l.entries, nil)
	for i := range l.images {
		if err := manifest.IndexMembers(&l.images[i], table); err != nil {
			t.Fatal(err)
		}
	}
}

// recipe is the recipe of l's image i.
func (l *v2Layout) recipe(i int) []byte {
	if l.packed {
		return (&manifest.Manifest{Entries: l.entries}).Layout().Recipe(&l.images[i])
	}
	return manifest.RecipeBytes(&l.images[i])
}

func (l *v2Layout) add(path string, body []byte) {
	l.entries = append(l.entries, manifest.Entry{Path: path, Size: int64(len(body)), SHA256: sha256Hex(body)})
	l.bodies = append(l.bodies, body)
}

// index has l's images list their members by position in the member
// table, as writers of this version do, and adds MEMBERS.
func (l *v2Layout) index(t *testing.T) {
	table := manifest.MemberTable(l.entries, nil)
	for i := range l.images {
		if err := manifest.IndexMembers(&l.images[i], table); err != nil {
			t.Fatal(err)
		}
	}
	l.add(manifest.TableName, manifest.TableBytes(table))
}

// finish adds recipes and TGZSUMS for l's images.
func (l *v2Layout) finish() {
	for i := range l.images {
		l.add(l.images[i].Recipe, l.recipe(i))
	}
	l.add(manifest.TGZSumsName, manifest.TGZSums(l.images))
}

// vectorV2Layout is two images sharing their tail member.
func vectorV2Layout(t *testing.T) *v2Layout {
	l := &v2Layout{}
	seen := map[string]bool{}
	for _, v := range []struct{ name, app string }{{"app", "#!/bin/sh\necho app\n"}, {"tool", "#!/bin/sh\necho tool\n"}} {
		im := vectorImage()
		im.Name, im.Key, im.Regexp = v.name, v.name+"/"+v.name+"-1.0.tgz", v.name+`/`+v.name+`-(.*)\.tgz`
		obj := manifest.Entry{Path: manifest.ImagesFolder + im.Key, Image: im, Recipe: manifest.RecipePath(im.Key)}
		var whole []byte
		for _, m := range vectorMembers(t, v.app) {
			sum := sha256Hex(m)
			obj.Members = append(obj.Members, sum)
			whole = append(whole, m...)
			if !seen[sum] {
				seen[sum] = true
				l.add(manifest.MemberPath(sum), m)
			}
		}
		obj.Size, obj.SHA256, obj.TarSize = int64(len(whole)), sha256Hex(whole), 4096
		l.images = append(l.images, obj)
	}
	return l
}

// writeV2Vectors writes format 2's vectors (docs/format-v2.md section 11):
// one written by airlock's writer, then one bad bundle per reader rule.
func writeV2Vectors(t *testing.T, priv ed25519.PrivateKey, add func(name, about string, v verdict, files ...string)) {
	t.Helper()
	l := vectorV2Layout(t)
	l.finish()
	var payloads []bundle.Payload
	for i, e := range l.entries {
		body := l.bodies[i]
		payloads = append(payloads, bundle.Payload{Path: e.Path, Size: e.Size, SHA256: e.SHA256,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }})
	}
	if _, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-format2"), priv, payloads,
		bundle.WithImages(l.images), bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors")); err != nil {
		t.Fatal(err)
	}
	add("good-format2", "format 2: two images assembled from members, sharing their tail member", verdict{0, "ok"}, "good-format2.tar")

	// The same images listed by position in the member table, as airlock
	// writes them now (member_index, MEMBERS).
	l = vectorV2Layout(t)
	l.index(t)
	l.finish()
	payloads = nil
	for i, e := range l.entries {
		body := l.bodies[i]
		payloads = append(payloads, bundle.Payload{Path: e.Path, Size: e.Size, SHA256: e.SHA256,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }})
	}
	if _, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-format2-index"), priv, payloads,
		bundle.WithImages(l.images), bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors")); err != nil {
		t.Fatal(err)
	}
	add("good-format2-index", "format 2: the same two images listing their members by position in the member table (member_index, MEMBERS)", verdict{0, "ok"}, "good-format2-index.tar")

	// As airlock writes them now: members in packs, recipes of byte
	// ranges. The packs go to the writer without their sums, so it checks
	// every member against its name as it hashes them.
	l = vectorV2Layout(t)
	l.pack(t)
	l.finish()
	payloads = nil
	for i, e := range l.entries {
		body := l.bodies[i]
		p := bundle.Payload{Path: e.Path, Size: e.Size, SHA256: e.SHA256, Members: e.Members, MemberSizes: e.MemberSizes,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}
		if e.IsPack() {
			p.SHA256 = ""
		}
		payloads = append(payloads, p)
	}
	if _, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-format2-packs"), priv, payloads,
		bundle.WithImages(l.images), bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors")); err != nil {
		t.Fatal(err)
	}
	add("good-format2-packs", "format 2: the same two images with their members in packs, one entry per image, and recipes of byte ranges (as airlock writes them now)", verdict{0, "ok"}, "good-format2-packs.tar")

	// A pack that is its image's whole tgz, holding again the head and
	// tail members the first image's pack carries (section 6); recipes
	// read the first copy.
	l = vectorV2Layout(t)
	l.pack(t)
	l.wholePack(1)
	l.finish()
	if q := l.entries[1]; q.SHA256 != l.images[1].SHA256 {
		t.Fatalf("%s is not its image's whole tgz", q.Path)
	}
	payloads = nil
	for i, e := range l.entries {
		body := l.bodies[i]
		payloads = append(payloads, bundle.Payload{Path: e.Path, Size: e.Size, SHA256: e.SHA256, Members: e.Members, MemberSizes: e.MemberSizes,
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }})
	}
	if _, err := bundle.Write(context.Background(), filepath.Join(vectorsDir, "good-format2-whole"), priv, payloads,
		bundle.WithImages(l.images), bundle.WithCreated(vectorCreated), bundle.WithTool("airlock test vectors")); err != nil {
		t.Fatal(err)
	}
	add("good-format2-whole", "format 2: packs as airlock writes them for images that share almost nothing: the second image's pack is its whole tgz, holding again the head and tail members the first image's pack carries", verdict{0, "ok"}, "good-format2-whole.tar")

	rule := verdict{3, "manifest_rule"}
	cases := []struct {
		name, about string
		change      func(l *v2Layout) // before recipes and TGZSUMS are added, unless it adds them
		v           verdict
	}{
		{"format2-missing-member", "format 2: an image lists a member the bundle does not carry (rule 2)", func(l *v2Layout) {
			l.images[0].Members = append(l.images[0].Members, sha256Hex([]byte("not carried")))
			l.finish()
		}, rule},
		{"format2-bad-size", "format 2: an image's size is not the sum of its members' sizes (rule 4)", func(l *v2Layout) {
			l.images[1].Size++
			l.finish()
		}, rule},
		{"format2-unused-member", "format 2: a member entry no image uses (rule 3)", func(l *v2Layout) {
			l.add(manifest.MemberPath(sha256Hex([]byte("spare"))), []byte("spare"))
			l.finish()
		}, rule},
		{"format2-member-path", "format 2: a member entry whose path is not members/sha256/ and its sha256 (rule 3)", func(l *v2Layout) {
			l.entries[0].Path = manifest.MembersFolder + sha256Hex([]byte("another name"))
			l.finish()
		}, rule},
		{"format2-bad-recipe", "format 2: a recipe that points outside the bundle instead of listing the image's members (rule 5)", func(l *v2Layout) {
			l.add(l.images[0].Recipe, []byte("../../etc/passwd\n"))
			l.add(l.images[1].Recipe, manifest.RecipeBytes(&l.images[1]))
			l.add(manifest.TGZSumsName, manifest.TGZSums(l.images))
		}, rule},
		{"format2-bad-tgzsums", "format 2: a TGZSUMS whose sums differ from the images' (rule 5)", func(l *v2Layout) {
			for i := range l.images {
				l.add(l.images[i].Recipe, manifest.RecipeBytes(&l.images[i]))
			}
			l.add(manifest.TGZSumsName, manifest.TGZSums(l.images[:1]))
		}, rule},
		{"format2-index-outside", "format 2: a member_index position outside the member table (rule 5)", func(l *v2Layout) {
			l.index(t)
			l.images[1].MemberIndex[0] = 99
			l.finish()
		}, rule},
		{"format2-bad-table", "format 2: a MEMBERS that differs from the member table (rule 5)", func(l *v2Layout) {
			l.index(t)
			l.bodies[len(l.bodies)-1] = []byte("members/sha256/" + sha256Hex([]byte("elsewhere")) + "\n")
			last := &l.entries[len(l.entries)-1]
			last.Size, last.SHA256 = int64(len(l.bodies[len(l.bodies)-1])), sha256Hex(l.bodies[len(l.bodies)-1])
			l.finish()
		}, rule},
		{"format2-bad-member", "format 2: a member's bytes differ from its name (rule 8)", func(l *v2Layout) {
			l.finish()
			l.bodies[0] = append([]byte(nil), l.bodies[0]...)
			l.bodies[0][len(l.bodies[0])-1] ^= 1
		}, verdict{3, "checksum"}},
		{"format2-pack-sizes", "format 2: a pack whose member_sizes do not add up to its size (rule 1)", func(l *v2Layout) {
			l.pack(t)
			l.entries[0].MemberSizes[0]++
			l.finish()
		}, rule},
		{"format2-pack-twice", "format 2: a member carried in two packs with two sizes (rule 3)", func(l *v2Layout) {
			l.pack(t)
			l.wholePack(1)
			q := &l.entries[1]
			q.MemberSizes[len(q.MemberSizes)-1]++
			l.bodies[1] = append(l.bodies[1], 0)
			q.Size, q.SHA256 = int64(len(l.bodies[1])), sha256Hex(l.bodies[1])
			l.finish()
		}, rule},
		{"format2-pack-recipe", "format 2: a recipe of byte ranges that reads outside the bundle (rule 5)", func(l *v2Layout) {
			l.pack(t)
			l.add(l.images[0].Recipe, []byte("../../etc/passwd 0 100\n"))
			l.add(l.images[1].Recipe, l.recipe(1))
			l.add(manifest.TGZSumsName, manifest.TGZSums(l.images))
		}, rule},
		{"format2-pack-bad-member", "format 2: a pack whose bytes match its signed sha256 but one of whose members differs from its name (rule 8)", func(l *v2Layout) {
			l.pack(t)
			lie := sha256Hex([]byte("another name"))
			for i := range l.images {
				for j, name := range l.images[i].Members {
					if name == l.entries[0].Members[0] {
						l.images[i].Members[j] = lie
					}
				}
			}
			l.entries[0].Members[0] = lie
			l.finish()
		}, verdict{3, "checksum"}},
	}
	for _, tc := range cases {
		l := vectorV2Layout(t)
		tc.change(l)
		m := &manifest.Manifest{Format: manifest.FormatV2, Created: vectorCreated, Signer: keys.ID(priv.Public().(ed25519.PublicKey)),
			Tool: "airlock test vectors", Entries: l.entries, Images: l.images}
		if tc.name == "format2-bad-member" {
			// The signed sums are those of the good bytes.
			m.Entries = append([]manifest.Entry(nil), l.entries...)
		}
		head, err := bundletest.Head(priv, m)
		if err != nil {
			t.Fatal(err)
		}
		files := head
		for i, e := range l.entries {
			files = append(files, bundletest.File{Name: e.Path, Body: l.bodies[i]})
		}
		if err := bundletest.WriteTar(filepath.Join(vectorsDir, tc.name+".tar"), vectorCreated, files); err != nil {
			t.Fatal(err)
		}
		add(tc.name, tc.about, tc.v, tc.name+".tar")
	}
}
