package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/audit"
	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
	"github.com/airlockhq/airlock/verify"
)

// member is a gzip member of n bytes of data chosen by seed.
func member(t *testing.T, n int, seed uint64) []byte {
	t.Helper()
	data, _ := buckettest.Data(n, seed)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type v2Image struct {
	name, version string
	members       [][]byte
}

// v2Payloads lays images out as format 2 does (docs/format-v2.md
// sections 5-7): each distinct member once, a recipe per image, TGZSUMS.
func v2Payloads(images []v2Image) ([]bundle.Payload, []manifest.Entry) {
	var payloads []bundle.Payload
	var objects []manifest.Entry
	seen := map[string]bool{}
	add := func(path string, b []byte) {
		payloads = append(payloads, bundle.Payload{Path: path, Size: int64(len(b)), SHA256: buckettest.SHA(b),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }})
	}
	for _, im := range images {
		key := im.name + "/" + im.name + "-" + im.version + ".tgz"
		obj := manifest.Entry{Path: manifest.ImagesFolder + key, Image: &manifest.Image{Name: im.name, Version: im.version, Key: key},
			Recipe: manifest.RecipePath(key), TarSize: 1}
		var whole []byte
		for _, m := range im.members {
			name := buckettest.SHA(m)
			obj.Members = append(obj.Members, name)
			whole = append(whole, m...)
			if !seen[name] {
				seen[name] = true
				add(manifest.MemberPath(name), m)
			}
		}
		obj.Size, obj.SHA256 = int64(len(whole)), buckettest.SHA(whole)
		add(obj.Recipe, manifest.RecipeBytes(&obj))
		objects = append(objects, obj)
	}
	add(manifest.TGZSumsName, manifest.TGZSums(objects))
	return payloads, objects
}

// whole is the tgz im assembles to.
func (im v2Image) whole() []byte { return bytes.Join(im.members, nil) }

// Three images on one shared base member: each object in the bucket is
// exactly the concatenation of its members, with the recorded sha256 of
// the whole; audit --deep is clean, and a re-run skips everything.
func TestImportFormat2AssemblesImages(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	base := member(t, 6<<20, 1)
	images := []v2Image{
		{"app", "1.0", [][]byte{member(t, 1000, 10), base, member(t, 300, 11)}},
		{"svc", "2.0", [][]byte{member(t, 2000, 20), base, member(t, 300, 11)}},
		{"tool", "3.0", [][]byte{base, base}}, // a member may repeat within an image
	}
	payloads, objects := v2Payloads(images)
	files, trusted := signedBundle(t, payloads, bundle.WithImages(objects), bundle.WithPartSize(1<<20))
	if len(files) < 6 {
		t.Fatalf("want a bundle of several 1 MiB parts (members across part boundaries), got %d", len(files))
	}
	res, err := runImport(t, s, files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 3 {
		t.Fatalf("uploaded %d, want 3", res.Uploaded)
	}
	for i, im := range images {
		key := "ci/" + objects[i].Image.Key
		got := objectBytes(t, s, key)
		if !bytes.Equal(got, im.whole()) {
			t.Errorf("%s: %d bytes in the bucket, not the %d bytes of its members in order", key, len(got), len(im.whole()))
		}
		zr, err := gzip.NewReader(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Errorf("%s does not read as one gzip stream: %v", key, err)
		}
		obj, _, _ := s.Stat(context.Background(), key)
		if obj.SHA256 != objects[i].SHA256 {
			t.Errorf("%s: recorded sha256 %s, want the assembled tgz's %s", key, obj.SHA256, objects[i].SHA256)
		}
	}
	objs, _ := s.List(context.Background(), "ci/")
	for _, o := range objs {
		if strings.Contains(o.Key, "members/") || strings.Contains(o.Key, "recipes/") || strings.HasSuffix(o.Key, manifest.TGZSumsName) {
			t.Errorf("a member, recipe or TGZSUMS landed in the bucket: %s", o.Key)
		}
	}
	records, err := record.Scan(context.Background(), s, "ci/", trusted)
	if err != nil || records.Len() != 1 {
		t.Fatalf("records = %v, %v", records, err)
	}
	rep, err := audit.Run(context.Background(), s, records, audit.WithDeep(true), audit.WithPrefix("ci/"))
	if err != nil || !rep.OK() || rep.Checked != 3 {
		t.Fatalf("audit --deep of the assembled objects: %+v, %v", rep, err)
	}
	again, err := runImport(t, s, files, trusted)
	if err != nil || again.Uploaded != 0 || again.Skipped != 3 {
		t.Fatalf("re-run: %+v, %v; want everything skipped", again, err)
	}
}

// A trusted signer's manifest whose image sha256 is not that of its
// members (a buggy or hostile exporter): the import refuses the image,
// naming it, and nothing lands under its key, not even an upload.
func TestImportFormat2RefusesAWrongAssembledSum(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	images := []v2Image{{"app", "1.0", [][]byte{member(t, 7<<20, 1), member(t, 500, 2)}}}
	payloads, objects := v2Payloads(images)
	lie := buckettest.SHA([]byte("something else"))
	objects[0].SHA256 = lie
	for i := range payloads {
		if payloads[i].Path == manifest.TGZSumsName {
			b := manifest.TGZSums(objects)
			payloads[i].Size, payloads[i].SHA256 = int64(len(b)), buckettest.SHA(b)
			payloads[i].Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
	}
	files, trusted := signedBundle(t, payloads, bundle.WithImages(objects))
	_, err := runImport(t, s, files, trusted)
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Entry != "images/app/app-1.0.tgz" {
		t.Fatalf("err = %v, want a *verify.Error naming the image", err)
	}
	if _, ok, _ := s.Stat(context.Background(), "ci/app/app-1.0.tgz"); ok {
		t.Fatal("the wrongly assembled image landed")
	}
	if ups := buckettest.Uploads(t, minio.Get(t), s.Bucket(), "ci/app/app-1.0.tgz"); len(ups) != 0 {
		t.Fatalf("uploads left: %v", ups)
	}
}

// A member that changes on the media after the verifying pass: the
// assembly fails naming the image and the member, before any upload
// completes (the blaming reread finds which member).
func TestAssemblyNamesAMemberChangedAfterVerifying(t *testing.T) {
	dir := t.TempDir()
	priv := newKey(t, dir)
	m1, m2 := member(t, 5000, 1), member(t, 6000, 2)
	payloads, objects := v2Payloads([]v2Image{{"app", "1.0", [][]byte{m1, m2}}})
	res, err := bundle.Write(context.Background(), filepath.Join(dir, "b"), priv, payloads, bundle.WithImages(objects))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	r, err := bundle.Open(res.Files, []keys.Public{pub})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ms := members{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ms.note(e)
	}
	at := ms[buckettest.SHA(m2)]
	f, err := os.OpenFile(res.Files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{m2[100] ^ 1}, at.offset+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	body, err := assembly(context.Background(), nil, r, ms, objects[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, &blaming{ctx: context.Background(), r: r, ms: ms, im: objects[0], body: body})
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Entry != "images/app/app-1.0.tgz" || !strings.Contains(err.Error(), fmt.Sprintf("member 1 (%s)", buckettest.SHA(m2))) {
		t.Fatalf("err = %v, want one naming the image and member 1", err)
	}
}

// A format 2 bundle crafted without a member an image lists is refused
// when opened, naming the image and the member, before any upload.
func TestFormat2MissingMemberIsRefusedBeforeUpload(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	dir := t.TempDir()
	priv := newKey(t, dir)
	m1, m2 := member(t, 500, 1), member(t, 600, 2)
	payloads, objects := v2Payloads([]v2Image{{"app", "1.0", [][]byte{m1, m2}}})
	var entries []manifest.Entry
	var bodies [][]byte
	for _, p := range payloads {
		if p.Path == manifest.MemberPath(buckettest.SHA(m2)) {
			continue
		}
		rc, _ := p.Open()
		b, _ := io.ReadAll(rc)
		entries = append(entries, manifest.Entry{Path: p.Path})
		bodies = append(bodies, b)
	}
	path := filepath.Join(dir, "b.tar")
	if err := writeSignedV2(path, priv, entries, bodies, objects); err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	_, err := bundle.Open([]string{path}, []keys.Public{pub})
	if !verify.IsFailure(err) || !strings.Contains(err.Error(), "images/app/app-1.0.tgz") || !strings.Contains(err.Error(), "member 1 ("+buckettest.SHA(m2)+")") {
		t.Fatalf("open: %v; want a verification failure naming the image and member 1", err)
	}
	objs, _ := s.List(context.Background(), "")
	if len(objs) != 0 {
		t.Fatalf("bucket holds %v", objs)
	}
}

func newKey(t *testing.T, dir string) ed25519.PrivateKey {
	t.Helper()
	if _, err := keys.Generate(filepath.Join(dir, "k")); err != nil {
		t.Fatal(err)
	}
	priv, err := keys.LoadPrivate(filepath.Join(dir, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// writeSignedV2 signs a format 2 manifest over entries and images as given,
// bypassing bundle.Write's checks.
func writeSignedV2(path string, priv ed25519.PrivateKey, entries []manifest.Entry, bodies [][]byte, images []manifest.Entry) error {
	for i := range entries {
		entries[i].Size, entries[i].SHA256 = int64(len(bodies[i])), buckettest.SHA(bodies[i])
	}
	m := &manifest.Manifest{Format: manifest.FormatV2, Created: bundletest.Created,
		Signer: keys.ID(priv.Public().(ed25519.PublicKey)), Entries: entries, Images: images}
	head, err := bundletest.Head(priv, m)
	if err != nil {
		return err
	}
	for i, e := range entries {
		head = append(head, bundletest.File{Name: e.Path, Body: bodies[i]})
	}
	return bundletest.WriteTar(path, bundletest.Created, head)
}

// haveOf is the have reference to member m of image object obj (full
// bundle images[i]), as a receipt of the bucket lists it.
func haveOf(obj manifest.Entry, members [][]byte, m int) manifest.Have {
	var off int64
	for _, b := range members[:m] {
		off += int64(len(b))
	}
	return manifest.Have{SHA256: buckettest.SHA(members[m]), Key: obj.Image.Key, Offset: off, Length: int64(len(members[m])), ObjectSHA256: obj.SHA256}
}

// deltaPayloads is v2Payloads without the members in have.
func deltaPayloads(images []v2Image, have []manifest.Have) ([]bundle.Payload, []manifest.Entry) {
	payloads, objects := v2Payloads(images)
	var out []bundle.Payload
	for _, p := range payloads {
		if !slices.ContainsFunc(have, func(h manifest.Have) bool { return p.Path == manifest.MemberPath(h.SHA256) }) {
			out = append(out, p)
		}
	}
	return out, objects
}

// A delta carries only the new member; import reads the base member from
// the object the first bundle delivered (a ranged GET) and assembles the
// new image exactly; audit --deep is clean.
func TestImportFormat2DeltaReadsHaveMembersFromTheBucket(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	base := member(t, 6<<20, 1)
	first := v2Image{"app", "1.0", [][]byte{member(t, 1000, 10), base, member(t, 300, 11)}}
	payloads, objects := v2Payloads([]v2Image{first})
	files, trusted := signedBundle(t, payloads, bundle.WithImages(objects))
	if _, err := runImport(t, s, files, trusted); err != nil {
		t.Fatal(err)
	}

	next := v2Image{"app", "1.1", [][]byte{member(t, 1000, 20), base, member(t, 300, 11)}}
	have := []manifest.Have{haveOf(objects[0], first.members, 1), haveOf(objects[0], first.members, 2)}
	slices.SortFunc(have, func(a, b manifest.Have) int { return strings.Compare(a.SHA256, b.SHA256) })
	dpayloads, dobjects := deltaPayloads([]v2Image{next}, have)
	dir := filepath.Dir(files[0])
	dfiles, _ := signedBundleIn(t, dir, "delta", dpayloads, bundle.WithImages(dobjects), bundle.WithHave(have))
	fi, _ := os.Stat(dfiles[0])
	if fi.Size() > 1<<20 {
		t.Fatalf("the delta is %d bytes: it carries the base member", fi.Size())
	}
	res, err := runImport(t, s, dfiles, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 1 {
		t.Fatalf("uploaded %d, want 1", res.Uploaded)
	}
	rc, err := s.Open(context.Background(), "ci/app/app-1.1.tgz")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, next.whole()) {
		t.Fatalf("the delta's image is %d bytes, not its %d bytes of members", len(got), len(next.whole()))
	}
	records, err := record.Scan(context.Background(), s, "ci/", trusted)
	if err != nil || records.Len() != 2 {
		t.Fatalf("records = %v, %v", records, err)
	}
	rep, err := audit.Run(context.Background(), s, records, audit.WithDeep(true), audit.WithPrefix("ci/"))
	if err != nil || !rep.OK() || rep.Checked != 2 {
		t.Fatalf("audit --deep: %+v, %v", rep, err)
	}
}

// A delta whose have list claims members the bucket does not hold (the
// object is missing, or holds other content) is refused before anything
// is uploaded, naming the member, the image and the object.
func TestImportFormat2RefusesHaveTheBucketLacks(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	base := member(t, 3000, 1)
	first := v2Image{"app", "1.0", [][]byte{base}}
	_, objects := v2Payloads([]v2Image{first})
	next := v2Image{"app", "1.1", [][]byte{member(t, 1000, 20), base}}
	have := []manifest.Have{haveOf(objects[0], first.members, 0)}
	dpayloads, dobjects := deltaPayloads([]v2Image{next}, have)
	files, trusted := signedBundle(t, dpayloads, bundle.WithImages(dobjects), bundle.WithHave(have))

	_, err := runImport(t, s, files, trusted)
	if !verify.IsFailure(err) || !strings.Contains(err.Error(), "ci/app/app-1.0.tgz is missing") ||
		!strings.Contains(err.Error(), have[0].SHA256) || !strings.Contains(err.Error(), "images/app/app-1.1.tgz") {
		t.Fatalf("import against an empty bucket: %v", err)
	}
	other := member(t, 3000, 2) // same length, other content
	if err := s.Put(context.Background(), "ci/app/app-1.0.tgz", bytes.NewReader(other), int64(len(other)), buckettest.SHA(other)); err != nil {
		t.Fatal(err)
	}
	_, err = runImport(t, s, files, trusted)
	if !verify.IsFailure(err) || !strings.Contains(err.Error(), "recorded sha256") {
		t.Fatalf("import against other content: %v", err)
	}
	if _, ok, _ := s.Stat(context.Background(), "ci/app/app-1.1.tgz"); ok {
		t.Fatal("the delta's image landed")
	}
}

// Have members that follow each other in one object are read with one
// ranged GET, each still checked on its own: a changed byte in the third
// fails the import naming that member, and nothing lands.
func TestImportFormat2DeltaChecksEachMemberOfOneRange(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	first := v2Image{"app", "1.0", [][]byte{member(t, 1000, 1), member(t, 2000, 2), member(t, 3000, 3), member(t, 4000, 4)}}
	_, objects := v2Payloads([]v2Image{first})
	whole := first.whole()
	at := len(first.members[0]) + len(first.members[1]) + 10 // inside member 2
	buckettest.RawPut(t, srv, s.Bucket(), "ci/app/app-1.0.tgz", buckettest.Flip(whole, at), map[string]string{"sha256": objects[0].SHA256})

	next := v2Image{"app", "1.1", [][]byte{member(t, 500, 9), first.members[0], first.members[1], first.members[2], first.members[3]}}
	var have []manifest.Have
	for m := range first.members {
		have = append(have, haveOf(objects[0], first.members, m))
	}
	slices.SortFunc(have, func(a, b manifest.Have) int { return strings.Compare(a.SHA256, b.SHA256) })
	dpayloads, dobjects := deltaPayloads([]v2Image{next}, have)
	ms := members(haveMembers(have, "ci/"))
	ms[buckettest.SHA(next.members[0])] = memberAt{offset: 512, size: int64(len(next.members[0]))}
	if secs, err := sections(ms, dobjects[0]); err != nil || len(secs) != 2 || len(secs[1].more) != 4 {
		t.Fatalf("%d sections (%v), want 2: the new member, then the 4 have members in one range", len(secs), err)
	}
	files, trusted := signedBundle(t, dpayloads, bundle.WithImages(dobjects), bundle.WithHave(have))
	_, err := runImport(t, s, files, trusted)
	want := fmt.Sprintf("member 3 (%s), read from the bucket", buckettest.SHA(first.members[2]))
	if !verify.IsFailure(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("import with a changed byte in a have member: %v; want it to name %q", err, want)
	}
	if _, ok, _ := s.Stat(context.Background(), "ci/app/app-1.1.tgz"); ok {
		t.Fatal("the delta's image landed")
	}
}

// haveMembers places have as checkHave does, without a bucket.
func haveMembers(have []manifest.Have, prefix string) map[string]memberAt {
	ms := map[string]memberAt{}
	for _, h := range have {
		ms[h.SHA256] = memberAt{offset: h.Offset, size: h.Length, key: prefix + h.Key, etag: "e"}
	}
	return ms
}

// A bundle written with its head last, into a slot (bundle.Stream, as a
// large format 2 export writes it), imports like one written head first:
// the members lie after HEAD.pad, in parts of 1 MiB here.
func TestImportFormat2FromAHeadSlotBundle(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	base := member(t, 3<<20, 1)
	images := []v2Image{
		{"app", "1.0", [][]byte{member(t, 1000, 10), base, member(t, 300, 11)}},
		{"svc", "2.0", [][]byte{member(t, 2000, 20), base, member(t, 300, 11)}},
	}
	payloads, objects := v2Payloads(images)
	dir := t.TempDir()
	priv := newKey(t, dir)
	pub, err := keys.LoadPublic(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bundle.NewStream(filepath.Join(dir, "b"), 0, bundle.WithPartSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if err := st.Add(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Finish(context.Background(), priv, bundle.WithImages(objects))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(res.Files[0])
	if !bytes.Contains(first, []byte(manifest.HeadPadName)) {
		t.Fatalf("part 1 holds no %s: not a head-slot bundle", manifest.HeadPadName)
	}
	got, err := runImport(t, s, res.Files, []keys.Public{pub})
	if err != nil || got.Uploaded != 2 {
		t.Fatalf("import = %+v, %v; want 2 uploaded", got, err)
	}
	for i, im := range images {
		rc, err := s.Open(context.Background(), "ci/"+objects[i].Image.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(b, im.whole()) {
			t.Errorf("%s: %d bytes in the bucket, not the %d of its members", objects[i].Image.Key, len(b), len(im.whole()))
		}
	}
}

// A pack may be its image's whole tgz, holding again a member an earlier
// pack carries (docs/format-v2.md section 6): the bundle verifies, each
// image lands whole, and the shared member is read from its first copy.
func TestImportFormat2WholePackRepeatingAMember(t *testing.T) {
	s := buckettest.New(t, minio.Get(t))
	shared := member(t, 3000, 1)
	images := []v2Image{
		{"app", "1.0", [][]byte{member(t, 5000, 2), shared}},
		{"tool", "1.0", [][]byte{member(t, 400000, 3), shared}},
	}
	var payloads []bundle.Payload
	var packs, objects []manifest.Entry
	add := func(path string, b []byte) bundle.Payload {
		return bundle.Payload{Path: path, Size: int64(len(b)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
	}
	for _, im := range images {
		key := im.name + "/" + im.name + "-" + im.version + ".tgz"
		p := add(manifest.PackPath(key), im.whole())
		for _, m := range im.members {
			p.Members = append(p.Members, buckettest.SHA(m))
			p.MemberSizes = append(p.MemberSizes, int64(len(m)))
		}
		payloads = append(payloads, p)
		packs = append(packs, manifest.Entry{Path: p.Path, Size: p.Size, Members: p.Members, MemberSizes: p.MemberSizes})
		objects = append(objects, manifest.Entry{Path: manifest.ImagesFolder + key, Image: &manifest.Image{Name: im.name, Version: im.version, Key: key},
			Recipe: manifest.RecipePath(key), TarSize: 1, Members: p.Members, Size: p.Size, SHA256: buckettest.SHA(im.whole())})
	}
	layout := (&manifest.Manifest{Entries: packs}).Layout()
	if w := layout[buckettest.SHA(shared)]; w.Path != "packs/app/app-1.0.tgz.pack" {
		t.Fatalf("the shared member lies in %s, want its first copy in app's pack", w.Path)
	}
	for i := range objects {
		payloads = append(payloads, add(objects[i].Recipe, layout.Recipe(&objects[i])))
	}
	payloads = append(payloads, add(manifest.TGZSumsName, manifest.TGZSums(objects)))
	files, trusted := signedBundle(t, payloads, bundle.WithImages(objects))
	res, err := runImport(t, s, files, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 2 {
		t.Fatalf("uploaded %d, want 2", res.Uploaded)
	}
	for i, im := range images {
		key := "ci/" + objects[i].Image.Key
		if got := objectBytes(t, s, key); !bytes.Equal(got, im.whole()) {
			t.Errorf("%s: %d bytes in the bucket, not the %d of its tgz", key, len(got), len(im.whole()))
		}
	}
}

// objectBytes reads the object at key whole.
func objectBytes(t *testing.T, s *bucket.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}
