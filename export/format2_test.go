package export_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// sharedBase replaces s's targets with n images on one base layer of
// about 10 MB of compressible text, each with a small top layer of its own.
func sharedBase(t *testing.T, s *setup, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	text := func(n int) string { return imagetest.Text(rng, n) }
	var base []imagetest.File
	for d := range 10 {
		base = append(base, imagetest.Dir(fmt.Sprintf("usr/lib/pkg%02d", d), 0o755))
		for f := range 50 {
			base = append(base, imagetest.File{Name: fmt.Sprintf("usr/lib/pkg%02d/f%03d", d, f), Body: text(1 + rng.IntN(40<<10))})
		}
	}
	reg := imagetest.Registry(t)
	var reqs []source.Request
	for i := range n {
		top := []imagetest.File{imagetest.Dir("app", 0o755)}
		for f := range 5 {
			top = append(top, imagetest.File{Name: fmt.Sprintf("app/%d-%d", i, f), Body: text(3000)})
		}
		img := imagetest.Configure(t, imagetest.Image(t, base, top), func(c *v1.Config) { c.Env = []string{fmt.Sprintf("APP=%d", i)} })
		ref := fmt.Sprintf("%s/team/app%d:1.%d", reg, i, i)
		imagetest.Push(t, ref, img)
		reqs = append(reqs, source.Request{Ref: ref, Line: i + 1})
	}
	targets, err := source.Resolve(context.Background(), reqs, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		t.Fatal(err)
	}
	s.targets = targets
}

// bundleFiles reads every entry of a one-file bundle.
func bundleFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

func gunzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// memberOf is the bytes of the member name of a bundle extracted into
// files, found where layout says, checked against its name.
func memberOf(t *testing.T, files map[string][]byte, layout manifest.Layout, name string) []byte {
	t.Helper()
	w, ok := layout[name]
	b, found := files[w.Path]
	if !ok || !found || w.Offset+w.Size > int64(len(b)) {
		t.Fatalf("member %s is not in the bundle (layout %+v)", name, w)
	}
	b = b[w.Offset : w.Offset+w.Size]
	if sum(b) != name {
		t.Fatalf("member %s in %s at %d hashes to %s", name, w.Path, w.Offset, sum(b))
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestFormat2CarriesSharedMembersOnce(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	when := export.WithCreated(time.Unix(1700000000, 0))
	one, err := s.run(context.Background(), "v1", when)
	if err != nil {
		t.Fatal(err)
	}
	var two *export.Result
	var started int
	two, err = s.run(context.Background(), "v2", when, export.WithFormat(manifest.FormatV2), export.WithEvents(func(e export.Event) {
		if e.Kind == export.Started {
			started++
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if two.Converted != 3 || started != 3 {
		t.Fatalf("format 2 after format 1 with one cache: %d converted (%d started), want 3: a format 1 tgz is not a format 2 one", two.Converted, started)
	}
	if two.Reused == 0 {
		t.Error("no member of the shared base was copied from an earlier image instead of compressed again")
	}
	if two.Replayed == 0 {
		t.Error("no image walked the shared base from the first one's read of it")
	}
	openVerified(t, two, s.trusted)
	m := two.Bundle.Manifest
	if m.Format != manifest.FormatV2 || len(m.Images) != 3 {
		t.Fatalf("manifest format %d with %d images, want format 2 with 3", m.Format, len(m.Images))
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	files := bundleFiles(t, two.Bundle.Files[0])
	v1files := bundleFiles(t, one.Bundle.Files[0])
	uses := map[string]int{}
	var listed int
	layout := m.Layout()
	for _, im := range m.Images {
		var tgz []byte
		for _, name := range im.Members {
			b := memberOf(t, files, layout, name)
			tgz = append(tgz, b...)
			uses[name]++
			listed++
		}
		if int64(len(tgz)) != im.Size || sum(tgz) != im.SHA256 {
			t.Errorf("%s: members concatenate to %d bytes, sha256 %s; the image object says %d, %s", im.Path, len(tgz), sum(tgz), im.Size, im.SHA256)
		}
		old, ok := v1files[im.Path]
		if !ok {
			t.Fatalf("format 1 bundle has no %s", im.Path)
		}
		tar2, tar1 := gunzipAll(t, tgz), gunzipAll(t, old)
		if !bytes.Equal(tar2, tar1) {
			t.Errorf("%s: the format 2 tgz holds another tar (%d bytes) than format 1's (%d bytes)", im.Path, len(tar2), len(tar1))
		}
		if int64(len(tar2)) != im.TarSize {
			t.Errorf("%s: tar_size %d, the tar is %d bytes", im.Path, im.TarSize, len(tar2))
		}
		if got := string(files[im.Recipe]); got != string(layout.Recipe(&im)) {
			t.Errorf("%s: recipe %s holds %q", im.Path, im.Recipe, got)
		}
		if files[im.Path] != nil {
			t.Errorf("format 2 bundle has an entry %s", im.Path)
		}
	}
	var members, shared int
	var memberBytes int64
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Path, manifest.MembersFolder) {
			t.Errorf("%s: a member entry; this writer puts members in packs", e.Path)
		}
		for _, name := range e.Members {
			members++
			if uses[name] == 3 {
				shared++
			}
		}
		if e.IsPack() {
			memberBytes += e.Size
		}
	}
	if members != len(uses) || shared == 0 || members >= listed {
		t.Errorf("%d members in packs for %d distinct members, %d used by every image, %d listed by the images: want each distinct member once and some shared", members, len(uses), shared, listed)
	}
	if string(files[manifest.TGZSumsName]) != string(manifest.TGZSums(m.Images)) {
		t.Errorf("TGZSUMS holds %q", files[manifest.TGZSumsName])
	}
	var v1size int64
	for _, e := range one.Bundle.Manifest.Entries {
		v1size += e.Size
	}
	t.Logf("format 1: %d bytes of tgz, bundle %d; format 2: %d distinct members (%d listed), %d bytes, bundle %d", v1size, one.Bundle.Bytes, members, listed, memberBytes, two.Bundle.Bytes)
	// Three images on one base: a little over one image's worth.
	if float64(two.Bundle.Bytes) > 0.6*float64(one.Bundle.Bytes) {
		t.Errorf("format 2 bundle is %d bytes, format 1's %d: want well below", two.Bundle.Bytes, one.Bundle.Bytes)
	}

	sameBundleFromCache(t, s, two, when)
}

// sameBundleFromCache exports s's 3 images again with format 2, from the
// staging cache first's export filled, and wants first's bundle byte for
// byte: the bundle depends on the images, not on where their tgz came from.
func sameBundleFromCache(t *testing.T, s *setup, first *export.Result, when export.Option) {
	t.Helper()
	again, err := s.run(context.Background(), "v2b", when, export.WithFormat(manifest.FormatV2))
	if err != nil {
		t.Fatal(err)
	}
	if again.Cached != 3 {
		t.Fatalf("second format 2 export: %d cached, want 3", again.Cached)
	}
	x, _ := os.ReadFile(first.Bundle.Files[0])
	y, _ := os.ReadFile(again.Bundle.Files[0])
	if !bytes.Equal(x, y) {
		t.Fatal("same images and time gave different format 2 bundles, converted and from the cache")
	}
}

// A byte flipped inside a cached member is found while the bundle is
// written; the image whose staged tgz supplied it is evicted and
// converted again, so the bundle never signs the bad byte.
func TestFormat2CorruptCachedMemberIsConvertedAgain(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	v2 := export.WithFormat(manifest.FormatV2)
	first, err := s.run(context.Background(), "a", v2)
	if err != nil {
		t.Fatal(err)
	}
	// The first image by key supplies every member it has.
	im := first.Bundle.Manifest.Images[0]
	staged, _ := filepath.Glob(filepath.Join(s.cache, "*-"+im.SHA256+".tgz"))
	if len(staged) != 1 {
		t.Fatalf("staging cache holds %v for %s", staged, im.Path)
	}
	b, err := os.ReadFile(staged[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(staged[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	var evicted []export.Event
	res, err := s.run(context.Background(), "b", v2, export.WithEvents(func(e export.Event) {
		if e.Kind == export.Evicted {
			evicted = append(evicted, e)
		}
	}))
	if err != nil {
		t.Fatalf("export after a damaged cached member: %v", err)
	}
	// The other images keep the base's members as references into the
	// first image's staged file (docs/format-v2.md section 9): every image
	// using the damaged file is converted again.
	if len(evicted) != 3 || evicted[0].Key != im.Image.Key {
		t.Fatalf("evicted events %+v, want three, the first for %s", evicted, im.Image.Key)
	}
	for _, e := range evicted {
		if !strings.Contains(e.Message, staged[0]) {
			t.Errorf("evicted event %+v does not name %s", e, staged[0])
		}
	}
	if res.Converted != 3 || res.Cached != 0 {
		t.Fatalf("%d converted, %d cached; want 3 and 0", res.Converted, res.Cached)
	}
	openVerified(t, res, s.trusted)
	if got := res.Bundle.Manifest.Images[0]; got.SHA256 != im.SHA256 || strings.Join(got.Members, ",") != strings.Join(im.Members, ",") {
		t.Errorf("converted again, %s is %s %v; was %s %v", got.Path, got.SHA256, got.Members, im.SHA256, im.Members)
	}
}

// A byte of a staged file that changes between its conversion and its
// copy into the bundle (checked by CRC-32C, docs/format-v2.md section 9)
// fails the export, naming the pack and the member: converting again
// would not help, and nothing that looks like a bundle is left.
func TestFormat2FreshStagedByteChangedFailsTheExport(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	flipped := ""
	_, err := s.run(context.Background(), "x", export.WithFormat(manifest.FormatV2), export.WithStreamAbove(0), export.WithJobs(1),
		export.WithEvents(func(e export.Event) {
			if e.Kind != export.Converted || flipped != "" {
				return
			}
			files, _ := filepath.Glob(filepath.Join(s.cache, "[^.]*.tgz"))
			if len(files) != 1 {
				t.Errorf("after the first conversion the cache holds %v", files)
				return
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Error(err)
				return
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(files[0], b, 0o644); err != nil {
				t.Error(err)
			}
			flipped = e.Key
		}))
	if flipped == "" {
		t.Fatal("no image was converted")
	}
	if err == nil || !strings.Contains(err.Error(), manifest.PackPath(flipped)) || !strings.Contains(err.Error(), "changed since it was written") {
		t.Fatalf("export after a staged byte changed = %v, want a failure naming %s and the member", err, manifest.PackPath(flipped))
	}
	assertNoBundle(t, s.dir)
}

// The recipe the tests run is the one docs/format-v2.md section 7 gives,
// line for line.
func TestRecipeIsTheDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "format-v2.md"))
	if err != nil {
		t.Fatal(err)
	}
	var indented strings.Builder
	for _, line := range strings.Split(bundletest.RebuildRecipe, "\n") {
		if line != "" {
			indented.WriteString("    " + line + "\n")
		}
	}
	if !strings.Contains(string(doc), indented.String()) {
		t.Errorf("docs/format-v2.md section 7 does not give the recipe the tests run:\n%s", indented.String())
	}
}

func TestUnknownFormatIsRefused(t *testing.T) {
	s := newSetup(t, 1)
	_, err := s.run(context.Background(), "x", export.WithFormat(3))
	if err == nil || !strings.Contains(err.Error(), "format 3") || !strings.Contains(err.Error(), "1, 2") {
		t.Fatalf("Run with format 3: %v", err)
	}
	assertNoBundle(t, s.dir)
}

// A format 2 bundle is written while its images convert (docs/format-v2.md
// section 5): the first image's members are in the bundle file before the
// last image is converted, the head comes last into its slot, and the
// bytes do not depend on how many images convert at once. Small bundles
// (under 256 MiB of distinct layers, where the slot's padding would cost
// more than the early write saves) and parts too small for a head slot
// are written head first.
func TestFormat2WritesWhileConverting(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 4)
	when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	v2 := export.WithFormat(manifest.FormatV2)
	var order []string
	one, err := s.run(context.Background(), "j1", v2, export.WithStreamAbove(0), export.WithCreated(when), export.WithEvents(func(e export.Event) {
		switch e.Kind {
		case export.Converted:
			order = append(order, "converted "+e.Key)
		case export.Written:
			if len(order) == 0 || order[len(order)-1] != "written" {
				order = append(order, "written")
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	firstWrite, lastConvert := slices.Index(order, "written"), -1
	for i, e := range order {
		if strings.HasPrefix(e, "converted ") {
			lastConvert = i
		}
	}
	if firstWrite < 0 || firstWrite > lastConvert {
		t.Errorf("events %v: want members written before the last image is converted", order)
	}
	files := bundleFiles(t, one.Bundle.Files[0])
	if _, ok := files[manifest.HeadPadName]; !ok {
		t.Errorf("no %s: the head was not written into a slot", manifest.HeadPadName)
	}
	openVerified(t, one, s.trusted)

	// Another cache, two images at a time: the same bytes.
	s.cache = t.TempDir()
	two, err := s.run(context.Background(), "j2", v2, export.WithStreamAbove(0), export.WithCreated(when), export.WithJobs(2))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(one.Bundle.Files[0])
	y, _ := os.ReadFile(two.Bundle.Files[0])
	if !bytes.Equal(x, y) {
		t.Error("-j 1 and -j 2 gave different format 2 bundles")
	}

	// Small parts, or a small bundle: head first, no slot.
	for name, opts := range map[string][]export.Option{
		"parts": {export.WithStreamAbove(0), export.WithPartSize(1 << 20)},
		"small": nil,
	} {
		res, err := s.run(context.Background(), name, append(opts, v2, export.WithCreated(when))...)
		if err != nil {
			t.Fatal(err)
		}
		openVerified(t, res, s.trusted)
		b, _ := os.ReadFile(res.Bundle.Files[0])
		if bytes.Contains(b, []byte(manifest.HeadPadName)) {
			t.Errorf("%s: the bundle has a %s", name, manifest.HeadPadName)
		}
	}
}

// Images on a shared base stage the base's members once: the others keep
// references into the first image's staged file (docs/format-v2.md
// section 9), so the cache holds about one image, not four. The bundle is
// the same as without reuse, from the cache too, and when the referred
// file is gone every image using it converts again.
func TestFormat2StagesSharedMembersOnce(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 4)
	when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	v2 := export.WithFormat(manifest.FormatV2)
	first, err := s.run(context.Background(), "a", v2, export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	var images, largest int64
	for _, im := range first.Bundle.Manifest.Images {
		images += im.Size
		largest = max(largest, im.Size)
	}
	data, _ := filepath.Glob(filepath.Join(s.cache, "*.tgz"))
	var staged int64
	for _, p := range data {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		staged += fi.Size()
	}
	if staged > largest*12/10 {
		t.Errorf("the staging cache holds %d bytes of data for 4 images of %d bytes (largest %d): the base is staged more than once", staged, images, largest)
	}
	want, _ := os.ReadFile(first.Bundle.Files[0])
	same := func(name string, res *export.Result) {
		t.Helper()
		got, _ := os.ReadFile(res.Bundle.Files[0])
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the bundle differs from the first", name)
		}
		openVerified(t, res, s.trusted)
	}

	cached, err := s.run(context.Background(), "b", v2, export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	if cached.Cached != 4 {
		t.Errorf("from the cache: %d cached, want 4", cached.Cached)
	}
	same("from the cache", cached)

	s.cache = t.TempDir()
	plain, err := s.run(context.Background(), "c", v2, export.WithCreated(when), export.WithoutReuse())
	if err != nil {
		t.Fatal(err)
	}
	same("without reuse", plain)

	// The first image's data file, which the others borrow from, is gone.
	s.cache = filepath.Dir(data[0])
	lender := ""
	for _, p := range data {
		if fi, _ := os.Stat(p); fi.Size() > largest/2 {
			lender = p
		}
	}
	if err := os.Remove(lender); err != nil {
		t.Fatal(err)
	}
	again, err := s.run(context.Background(), "d", v2, export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	if again.Converted != 4 {
		t.Errorf("after the borrowed-from file went: %d converted, want 4", again.Converted)
	}
	same("after the borrowed-from file went", again)
}

// The standard-tools recipe of docs/format-v2.md section 7 holds for a
// bundle whose head was written last into a slot: tar extracts HEAD.pad
// beside the rest, which no sum lists and no recipe reads.
func TestFormat2RecipeOnSlottedBundle(t *testing.T) {
	for _, tool := range []string{"sh", "tar", "sha256sum", "grep", "tail", "head"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the standard-tools recipe: %v", tool, err)
		}
	}
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	res, err := s.run(context.Background(), "slotted", export.WithFormat(manifest.FormatV2), export.WithStreamAbove(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bundleFiles(t, res.Bundle.Files[0])[manifest.HeadPadName]; !ok {
		t.Fatalf("no %s: the bundle was not written with a head slot", manifest.HeadPadName)
	}
	out := t.TempDir()
	recipe := "set -e\ncat \"$1\" | tar -xf - -C \"$2\"\ncd \"$2\" && sha256sum --strict -c SHA256SUMS\n" + bundletest.RebuildRecipe
	b, err := exec.Command("sh", "-c", recipe, "sh", res.Bundle.Files[0], out).CombinedOutput()
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, b)
	}
	for _, im := range res.Bundle.Manifest.Images {
		if !strings.Contains(string(b), im.Path+": OK") {
			t.Errorf("the recipe did not check %s:\n%s", im.Path, b)
		}
	}
}

// Two format 2 exports of images on one base, sharing a staging cache and
// running at once, both succeed with the same bundle, whichever image
// each staged the base's members in.
func TestFormat2ConcurrentExportsShareACache(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	when := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	v2 := export.WithFormat(manifest.FormatV2)
	results := make([]*export.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			results[i], errs[i] = s.run(context.Background(), fmt.Sprintf("c%d", i), v2, export.WithCreated(when), export.WithJobs(1+i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
		openVerified(t, results[i], s.trusted)
	}
	x, _ := os.ReadFile(results[0].Bundle.Files[0])
	y, _ := os.ReadFile(results[1].Bundle.Files[0])
	if !bytes.Equal(x, y) {
		t.Error("two exports of the same images at the same time gave different bundles")
	}
	// And a third, from what the two left in the cache.
	again, err := s.run(context.Background(), "after", v2, export.WithCreated(when))
	if err != nil {
		t.Fatal(err)
	}
	z, _ := os.ReadFile(again.Bundle.Files[0])
	if !bytes.Equal(x, z) {
		t.Error("the export from the shared cache gave another bundle")
	}
}

// Images that share no file share only their head (metadata.json and
// rootfs/, alike for alike configs) and tail: each pack is then its whole
// tgz, carrying those again, and a reader takes the first copy.
func TestFormat2WholePacksForImagesSharingAlmostNothing(t *testing.T) {
	s := newSetup(t, 0)
	rng := rand.New(rand.NewPCG(9, 10))
	reg := imagetest.Registry(t)
	var reqs []source.Request
	for i := range 3 {
		var files []imagetest.File
		for f := range 40 {
			files = append(files, imagetest.File{Name: fmt.Sprintf("srv/f%03d", f), Body: imagetest.Text(rng, 1+rng.IntN(20<<10))})
		}
		ref := fmt.Sprintf("%s/team/solo%d:1.%d", reg, i, i)
		imagetest.Push(t, ref, imagetest.Image(t, files))
		reqs = append(reqs, source.Request{Ref: ref, Line: i + 1})
	}
	targets, err := source.Resolve(context.Background(), reqs, []v1.Platform{source.DefaultPlatform})
	if err != nil {
		t.Fatal(err)
	}
	s.targets = targets
	when := export.WithCreated(time.Unix(1700000000, 0))
	res, err := s.run(context.Background(), "v2", when, export.WithFormat(manifest.FormatV2))
	if err != nil {
		t.Fatal(err)
	}
	openVerified(t, res, s.trusted)
	m := res.Bundle.Manifest
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	files := bundleFiles(t, res.Bundle.Files[0])
	layout := m.Layout()
	copies := map[string]int{}
	for _, im := range m.Images {
		key := im.Image.Key
		pack := files[manifest.PackPath(key)]
		if int64(len(pack)) != im.Size || sum(pack) != im.SHA256 {
			t.Errorf("%s: pack of %d bytes, sha256 %s; want its whole tgz, %d bytes, %s", key, len(pack), sum(pack), im.Size, im.SHA256)
		}
		var tgz []byte
		for _, name := range im.Members {
			tgz = append(tgz, memberOf(t, files, layout, name)...)
		}
		if sum(tgz) != im.SHA256 {
			t.Errorf("%s: the members where the layout puts them make sha256 %s, want %s", key, sum(tgz), im.SHA256)
		}
		if got := string(files[im.Recipe]); got != string(layout.Recipe(&im)) {
			t.Errorf("%s: recipe %q", key, got)
		}
	}
	for _, e := range m.Entries {
		for _, name := range e.Members {
			copies[name]++
		}
	}
	var repeated int
	for _, n := range copies {
		if n > 1 {
			repeated++
		}
	}
	if repeated == 0 {
		t.Error("no member is in two packs: the images were to share their head and tail, so this test checks nothing")
	}

	// The choice does not depend on where a tgz came from.
	sameBundleFromCache(t, s, res, when)
}
