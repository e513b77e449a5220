package rootfs_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// countingLayer counts how often its bytes are read.
type countingLayer struct {
	v1.Layer
	reads atomic.Int64
}

func (l *countingLayer) Uncompressed() (io.ReadCloser, error) {
	l.reads.Add(1)
	return l.Layer.Uncompressed()
}

// memoBase is a base of two layers: usr (many files, hardlinks, symlinks
// and one file cut into pieces) and etc (the user files the lint reads).
func memoBase(t testing.TB) (usr, etc *countingLayer) {
	rng := rand.New(rand.NewPCG(11, 12))
	var files []imagetest.File
	for d := range 12 {
		dir := fmt.Sprintf("usr/lib/pkg%02d", d)
		files = append(files, imagetest.Dir(dir, 0o755))
		for f := range 60 {
			files = append(files, imagetest.File{Name: fmt.Sprintf("%s/f%03d", dir, f), Body: imagetest.Text(rng, 1+rng.IntN(30<<10))})
		}
		files = append(files,
			imagetest.File{Name: dir + "/hard", Type: tar.TypeLink, Linkname: dir + "/f001"},
			imagetest.File{Name: dir + "/soft", Type: tar.TypeSymlink, Linkname: "f002"})
	}
	files = append(files, imagetest.File{Name: "usr/share/big", Body: imagetest.Text(rng, rootfs.MemberPieceSize+12345)})
	usr = &countingLayer{Layer: imagetest.Layer(t, files...)}
	etc = &countingLayer{Layer: imagetest.Layer(t,
		imagetest.Dir("etc", 0o755),
		imagetest.File{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"},
		imagetest.File{Name: "etc/group", Body: "root:x:0:\napp:x:1000:\n"},
		imagetest.File{Name: "etc/hostname", Body: "base\n"})}
	return usr, etc
}

// onMemoBase is the base plus one top layer of files.
func onMemoBase(t testing.TB, usr, etc v1.Layer, name string, top ...imagetest.File) v1.Image {
	img, err := mutate.AppendLayers(empty.Image, usr, etc, imagetest.Layer(t, top...))
	if err != nil {
		t.Fatal(err)
	}
	return imagetest.Configure(t, img, func(c *v1.Config) { c.Env = []string{"IMAGE=" + name}; c.User = "app" })
}

func digestOf(t testing.TB, l v1.Layer) v1.Hash {
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLayerMemoSameBytes: images on one base converted with a layer memo
// give the bytes and members they give without one, and the second image
// on the base reads none of the base's usr layer when its top layer
// leaves that layer's entries alone; one that deletes and replaces files
// in the middle of it still comes out the same.
func TestLayerMemoSameBytes(t *testing.T) {
	usr, etc := memoBase(t)
	first := onMemoBase(t, usr, etc, "first", imagetest.Dir("etc", 0o755), imagetest.File{Name: "etc/variant", Body: "first\n"},
		imagetest.File{Name: "app/run", Body: "first"})
	alike := onMemoBase(t, usr, etc, "alike", imagetest.Dir("etc", 0o755), imagetest.File{Name: "etc/variant", Body: "alike\n"},
		imagetest.File{Name: "app/run", Body: strings.Repeat("alike", 300)})
	changed := onMemoBase(t, usr, etc, "changed", imagetest.Whiteout("usr/lib/pkg05/f010"),
		imagetest.File{Name: "usr/lib/pkg08/f030", Body: "replaced"}, imagetest.File{Name: "usr/lib/pkg02/f001", Body: "hardlink target replaced"})

	for _, tc := range []struct {
		name      string
		img       v1.Image
		readsUsr  bool // the top layer changes usr's entries: some runs are new
		wantPrint bool
	}{
		{"alike", alike, false, true},
		{"changed", changed, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plainSrc := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
			tgzFirst, msFirst := writeMembers(t, first, rootfs.WithMemberSource(plainSrc))
			plainSrc.add(tgzFirst, msFirst)
			want, wantMs := writeMembers(t, tc.img, rootfs.WithMemberSource(plainSrc))

			memo := rootfs.NewLayerMemo([]v1.Hash{digestOf(t, usr), digestOf(t, etc)})
			src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
			with := []rootfs.Option{rootfs.WithMemberSource(src), rootfs.WithLayerMemo(memo)}
			tgz, ms := writeMembers(t, first, with...)
			if !bytes.Equal(tgz, tgzFirst) {
				t.Fatal("the first image's tgz differs with a memo")
			}
			src.add(tgz, ms)
			usrReads, etcReads := usr.reads.Load(), etc.reads.Load()
			got, gotMs := writeMembers(t, tc.img, with...)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: tgz differs with a memo (%d members, want %d)", tc.name, len(gotMs), len(wantMs))
			}
			for i := range wantMs {
				// A run of the top layer, which the memo does not list as
				// shared, is not hashed (TestLayerMemoHashesSharedLayersOnly).
				raw := gotMs[i].RawSHA256
				if gotMs[i].SHA256 != wantMs[i].SHA256 || gotMs[i].TarSize != wantMs[i].TarSize || raw != wantMs[i].RawSHA256 && raw != ([32]byte{}) {
					t.Fatalf("member %d: %+v with a memo, want %+v", i, gotMs[i], wantMs[i])
				}
			}
			if n := memo.Replayed.Load(); n != 2 {
				t.Errorf("%d layers replayed, want the 2 of the base", n)
			}
			printed, unprinted := memo.Printed.Load(), memo.Unprinted.Load()
			t.Logf("%s: %d runs by print, %d read after all; usr read %d times, etc %d times", tc.name, printed, unprinted,
				usr.reads.Load()-usrReads, etc.reads.Load()-etcReads)
			if printed == 0 {
				t.Errorf("no run came by its print")
			}
			if n := usr.reads.Load() - usrReads; tc.readsUsr != (n > 0) {
				t.Errorf("usr layer read %d times for %s, want reads: %v", n, tc.name, tc.readsUsr)
			}
			if !tc.readsUsr && unprinted != 0 {
				t.Errorf("%d runs of usr read after all, want none", unprinted)
			}
		})
	}
}

// TestLayerMemoLintSeesUserFiles: a replayed layer's /etc/passwd is read
// for the lint all the same, so its findings do not depend on the memo.
func TestLayerMemoLintSeesUserFiles(t *testing.T) {
	usr, etc := memoBase(t)
	a := onMemoBase(t, usr, etc, "a", imagetest.File{Name: "app/a", Body: "a"})
	b := onMemoBase(t, usr, etc, "b", imagetest.File{Name: "app/b", Body: "b"})
	lintOf := func(img v1.Image, opts ...rootfs.Option) rootfs.Lint {
		var l rootfs.Lint
		writeMembers(t, img, append(opts, rootfs.WithLint(func(x rootfs.Lint) { l = x }))...)
		return l
	}
	want := lintOf(b)
	memo := rootfs.NewLayerMemo([]v1.Hash{digestOf(t, usr), digestOf(t, etc)})
	src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
	lintOf(a, rootfs.WithMemberSource(src), rootfs.WithLayerMemo(memo))
	got := lintOf(b, rootfs.WithMemberSource(src), rootfs.WithLayerMemo(memo))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lint with a memo:\n%+v\nwant\n%+v", got, want)
	}
	if memo.Replayed.Load() == 0 {
		t.Fatal("nothing replayed")
	}
}

// flippingLayer serves its bytes once as they are, then with one byte of
// a file changed, as a layer blob damaged on disk between two reads
// would.
type flippingLayer struct {
	v1.Layer
	reads atomic.Int64
	at    string // the folder whose files' last bytes change
}

func (l *flippingLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Uncompressed()
	if err != nil || l.reads.Add(1) == 1 {
		return rc, err
	}
	defer rc.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(rc), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(tr)
		if strings.HasPrefix(hdr.Name, l.at) && len(body) > 0 {
			body[len(body)-1] ^= 1
		}
		tw.WriteHeader(hdr)
		tw.Write(body)
	}
	tw.Close()
	return io.NopCloser(&out), nil
}

// TestLayerMemoRefusesChangedLayer: a replay that has to read a file from
// the layer after all checks it against the sum the first read recorded,
// so a layer whose bytes changed in between fails the conversion, naming
// the file, rather than giving a tgz of other bytes.
func TestLayerMemoRefusesChangedLayer(t *testing.T) {
	usr, etc := memoBase(t)
	flip := &flippingLayer{Layer: usr.Layer, at: "usr/lib/pkg08/"}
	a := onMemoBase(t, flip, etc, "a", imagetest.File{Name: "app/a", Body: "a"})
	// b replaces a file of the changed folder: that run is new, so the
	// folder's files around it are read again.
	b := onMemoBase(t, flip, etc, "b", imagetest.File{Name: "usr/lib/pkg08/f030", Body: "replaced"})
	memo := rootfs.NewLayerMemo([]v1.Hash{digestOf(t, usr), digestOf(t, etc)})
	src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
	tgz, ms := writeMembers(t, a, rootfs.WithMemberSource(src), rootfs.WithLayerMemo(memo))
	src.add(tgz, ms)
	var buf bytes.Buffer
	_, err := rootfs.Write(t.Context(), &buf, b, rootfs.WithMembers(func(rootfs.Member) {}), rootfs.WithMemberSource(src), rootfs.WithLayerMemo(memo))
	if err == nil || !strings.Contains(err.Error(), "usr/lib/pkg08/") || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("Write over a changed layer: %v, want an error naming a file of usr/lib/pkg08/", err)
	}
	t.Log(err)
}

// TestLayerMemoHashesSharedLayersOnly: with a layer memo, the member
// writer takes the SHA-256 of the head, the tail and the runs of the
// layers the memo lists as shared, which another image's members may
// match, and of no other run: those members report no RawSHA256. The bytes
// are those of a write without the memo, which hashes every run.
func TestLayerMemoHashesSharedLayersOnly(t *testing.T) {
	usr, etc := memoBase(t)
	rng := rand.New(rand.NewPCG(15, 16))
	files := []imagetest.File{imagetest.Dir("app", 0o755)}
	for f := range 40 {
		files = append(files, imagetest.File{Name: fmt.Sprintf("app/f%02d", f), Body: imagetest.Text(rng, 1+rng.IntN(30<<10))})
	}
	top := imagetest.Layer(t, files...)
	img, err := mutate.AppendLayers(empty.Image, usr, etc, top)
	if err != nil {
		t.Fatal(err)
	}
	img = imagetest.Configure(t, img, func(c *v1.Config) { c.User = "app" })

	want, wantMs := writeMembers(t, img, rootfs.WithMemberSource(&mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}))
	stream := gunzip(t, want)
	offs, names := entriesAt(t, stream)
	// layerOf names where member m's run comes from: the layer of the
	// entry holding its first byte (a run never spans two layers).
	layerOf := func(m rootfs.Member) string {
		switch m.Kind {
		case rootfs.MemberHead:
			return "head"
		case rootfs.MemberTail:
			return "tail"
		}
		i, _ := slices.BinarySearch(offs, m.TarOffset+1)
		name := strings.TrimPrefix(names[i-1], "rootfs/")
		for _, l := range []string{"usr", "etc", "app"} {
			if name == l || strings.HasPrefix(name, l+"/") {
				return l
			}
		}
		t.Fatalf("member %d starts in entry %s, of no known layer", m.Index, names[i-1])
		return ""
	}
	perLayer := map[string]int{}
	for _, m := range wantMs {
		if m.RawSHA256 != sha256.Sum256(stream[m.TarOffset:m.TarOffset+m.TarSize]) {
			t.Fatalf("without a memo, member %d reports a RawSHA256 other than its run's", m.Index)
		}
		perLayer[layerOf(m)]++
	}
	t.Logf("members by layer: %v", perLayer)
	if perLayer["usr"] < 2 || perLayer["etc"] < 1 || perLayer["app"] < 2 {
		t.Fatalf("members by layer %v: want runs of every layer", perLayer)
	}

	for _, tc := range []struct {
		name   string
		shared []v1.Layer
		hashed []string // the layers whose runs are hashed, besides head and tail
	}{
		{"usr", []v1.Layer{usr}, []string{"usr"}},
		{"etc and top", []v1.Layer{etc, top}, []string{"etc", "app"}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var shared []v1.Hash
			for _, l := range tc.shared {
				shared = append(shared, digestOf(t, l))
			}
			src := &mapSource{level: rootfs.DefaultLevel, m: map[[32]byte][]byte{}}
			got, ms := writeMembers(t, img, rootfs.WithMemberSource(src), rootfs.WithLayerMemo(rootfs.NewLayerMemo(shared)))
			if !bytes.Equal(got, want) {
				t.Fatal("tgz differs with a memo")
			}
			if len(ms) != len(wantMs) {
				t.Fatalf("%d members with a memo, %d without", len(ms), len(wantMs))
			}
			for i, m := range ms {
				w := wantMs[i]
				if m.Kind != w.Kind || m.SHA256 != w.SHA256 || m.Offset != w.Offset || m.Size != w.Size || m.TarOffset != w.TarOffset || m.TarSize != w.TarSize {
					t.Fatalf("member %d: %+v with a memo, want %+v", i, m, w)
				}
				l := layerOf(m)
				hashed := l == "head" || l == "tail" || slices.Contains(tc.hashed, l)
				switch {
				case hashed && m.RawSHA256 != w.RawSHA256:
					t.Errorf("member %d (%s): RawSHA256 %x, want its run's, %x", i, l, m.RawSHA256[:4], w.RawSHA256[:4])
				case !hashed && m.RawSHA256 != [32]byte{}:
					t.Errorf("member %d (%s, not shared): RawSHA256 %x, want none", i, l, m.RawSHA256[:4])
				}
			}
		})
	}
}

// entriesAt lists the entries of a tar stream, each with the offset of its
// first byte (its first extension header, if any), in increasing order.
func entriesAt(t testing.TB, stream []byte) (offs []int64, names []string) {
	t.Helper()
	r := bytes.NewReader(stream)
	tr := tar.NewReader(r) // reads no further than the header it returns
	var end int64          // of the entry before
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return offs, names
		}
		if err != nil {
			t.Fatal(err)
		}
		offs, names = append(offs, end), append(names, hdr.Name)
		end = int64(len(stream)-r.Len()) + (hdr.Size+511)&^511
	}
}
