package rootfs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// writeMembers runs rootfs.Write with members into memory, checks what
// every member report says against the bytes and returns both.
func writeMembers(t testing.TB, img v1.Image, opts ...rootfs.Option) ([]byte, []rootfs.Member) {
	t.Helper()
	var ms []rootfs.Member
	var buf bytes.Buffer
	opts = append(opts, rootfs.WithMembers(func(m rootfs.Member) {
		if int64(buf.Len()) != m.Offset+m.Size {
			t.Errorf("member %d reported with %d bytes written, want them written first (%d)", m.Index, buf.Len(), m.Offset+m.Size)
		}
		ms = append(ms, m)
	}))
	if _, err := rootfs.Write(context.Background(), &buf, img, opts...); err != nil {
		t.Fatalf("Write with members: %v", err)
	}
	tgz := buf.Bytes()
	checkMembers(t, tgz, ms)
	return tgz, ms
}

// checkMembers checks that ms tile tgz and the tar stream, each member
// being one gzip member of its own whose name is its SHA-256.
func checkMembers(t testing.TB, tgz []byte, ms []rootfs.Member) {
	t.Helper()
	var off, tarOff int64
	for i, m := range ms {
		if m.Index != i || m.Offset != off || m.TarOffset != tarOff || m.Size <= 0 || m.TarSize <= 0 {
			t.Fatalf("member %d: %+v, want index %d at offset %d, tar offset %d", i, m, i, off, tarOff)
		}
		b := tgz[m.Offset : m.Offset+m.Size]
		if sha256.Sum256(b) != m.SHA256 {
			t.Errorf("member %d: SHA-256 differs from its bytes", i)
		}
		br := bytes.NewReader(b) // a ByteReader: gzip reads no further than the member
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		zr.Multistream(false)
		n, err := io.Copy(io.Discard, zr)
		if err != nil || n != m.TarSize {
			t.Errorf("member %d: inflates to %d bytes (%v), want %d", i, n, err, m.TarSize)
		}
		if br.Len() > 0 {
			t.Errorf("member %d: %d bytes after its first gzip member", i, br.Len())
		}
		off += m.Size
		tarOff += m.TarSize
	}
	if off != int64(len(tgz)) {
		t.Errorf("members cover %d of %d bytes", off, len(tgz))
	}
	if len(ms) < 3 || ms[0].Kind != rootfs.MemberHead || ms[len(ms)-1].Kind != rootfs.MemberTail {
		t.Errorf("member kinds: want head first and tail last, got %v", kinds(ms))
	}
	if tail := ms[len(ms)-1]; tail.TarSize != 1024 {
		t.Errorf("tail member holds %d tar bytes, want the 1024 of the end-of-archive marker", tail.TarSize)
	}
	for _, m := range ms {
		if m.TarSize > rootfs.MemberPieceSize || m.Kind != rootfs.MemberPiece && m.TarSize > rootfs.MemberMaxRun {
			t.Errorf("%v member %d holds %d tar bytes, more than MemberMaxRun (a run) or MemberPieceSize (a piece)", m.Kind, m.Index, m.TarSize)
		}
	}
}

func kinds(ms []rootfs.Member) []string {
	var k []string
	for _, m := range ms {
		k = append(k, m.Kind.String())
	}
	return k
}

func gunzip(t testing.TB, tgz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMembersAreTodaysTar: the members carry the same tar stream as
// today's Write, and GNU tar and Python's tarfile unpack the concatenation
// to the same tree.
func TestMembersAreTodaysTar(t *testing.T) {
	big, _ := generated(t, 3, 300, 16<<10) // several runs
	for name, img := range map[string]v1.Image{"edge case": imagetest.EdgeCase(t), "generated": big} {
		t.Run(name, func(t *testing.T) {
			old, _ := write(t, img)
			tgz, ms := writeMembers(t, img)
			if !bytes.Equal(gunzip(t, old), gunzip(t, tgz)) {
				t.Fatal("the members' tar stream differs from Write's")
			}
			if name == "generated" && len(ms) < 5 {
				t.Errorf("only %d members (%v); want several runs", len(ms), kinds(ms))
			}
			if want, got := tree(t, unpack(t, old)), tree(t, unpack(t, tgz)); !reflect.DeepEqual(want, got) {
				t.Errorf("GNU tar unpacks another tree: %d paths, want %d", len(got), len(want))
			}
			if want, got := tree(t, unpack(t, old)), tree(t, untarGz(t, tgz)); !reflect.DeepEqual(want, got) {
				t.Errorf("tar -xzf unpacks another tree: %d paths, want %d", len(got), len(want))
			}
			if want, got := tree(t, unpackPython(t, old)), tree(t, unpackPython(t, tgz)); !reflect.DeepEqual(want, got) {
				t.Errorf("Python unpacks another tree: %d paths, want %d", len(got), len(want))
			}
		})
	}
}

// untarGz unpacks tgz with GNU tar's own gunzip, tar -xzf.
func untarGz(t *testing.T, tgz []byte) string {
	t.Helper()
	tmp := t.TempDir()
	archive, dest := filepath.Join(tmp, "image.tgz"), filepath.Join(tmp, "dest")
	if err := os.WriteFile(archive, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "-xzf", archive, "-C", dest)
	return dest
}

func TestMembersAreDeterministic(t *testing.T) {
	img, _ := generated(t, 2, 400, 16<<10)
	first, ms := writeMembers(t, img, rootfs.WithConcurrency(1))
	for conc := 2; conc <= 4; conc++ {
		tgz, got := writeMembers(t, img, rootfs.WithConcurrency(conc), rootfs.WithBlockSize(64<<10))
		if !bytes.Equal(first, tgz) || !reflect.DeepEqual(ms, got) {
			t.Errorf("concurrency %d changed the output or the members", conc)
		}
	}
	if rootfs.OutputSettings(rootfs.WithMembers(func(rootfs.Member) {})) == rootfs.OutputSettings() {
		t.Error("OutputSettings does not tell members from one stream")
	}
}

// TestMembersResynchronise: two images on one large base with different
// small top layers share the members of most of the base.
func TestMembersResynchronise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	text := func(n int) string { return imagetest.Text(rng, n) }
	var base []imagetest.File
	for d := range 20 {
		base = append(base, imagetest.Dir(fmt.Sprintf("usr/lib/pkg%02d", d), 0o755))
		for f := range 100 {
			base = append(base, imagetest.File{Name: fmt.Sprintf("usr/lib/pkg%02d/f%03d", d, f), Body: text(1 + rng.IntN(24<<10))})
		}
	}
	top := func(name string, files int) []imagetest.File {
		fs := []imagetest.File{imagetest.Dir("app", 0o755)}
		for i := range files {
			fs = append(fs, imagetest.File{Name: fmt.Sprintf("app/%s%d", name, i), Body: text(2000)})
		}
		// and one base file replaced, deep inside the base's order
		return append(fs, imagetest.File{Name: "usr/lib/pkg10/f050", Body: name})
	}
	a := imagetest.Configure(t, imagetest.Image(t, base, top("a", 10)), func(c *v1.Config) { c.Env = []string{"A=1"} })
	b := imagetest.Configure(t, imagetest.Image(t, base, top("b", 30)), func(c *v1.Config) { c.User = "b" })
	_, ma := writeMembers(t, a)
	_, mb := writeMembers(t, b)
	have := map[[32]byte]bool{}
	for _, m := range ma {
		have[m.SHA256] = true
	}
	var shared, total, baseBytes int64
	for _, m := range mb {
		total += m.TarSize
		if have[m.SHA256] {
			shared += m.TarSize
		}
	}
	for _, f := range base {
		baseBytes += int64(len(f.Body))
	}
	// What cannot be shared: the top layer, and about two runs on each of
	// the two changes (after the top layer, around the replaced file)
	// while the cuts fall into step again: four runs of b's mean size.
	var runs, runBytes int64
	for _, m := range mb {
		if m.Kind == rootfs.MemberRun {
			runs++
			runBytes += m.TarSize
		}
	}
	lost := float64(total-baseBytes) + 4*float64(runBytes)/float64(runs)
	want := 1 - lost/float64(total)
	frac := float64(shared) / float64(total)
	t.Logf("%d and %d members; %.1f%% of b's %d tar bytes in members a has (want >= %.1f%%)", len(ma), len(mb), 100*frac, total, 100*want)
	if want < 0.5 {
		t.Fatalf("the base is too small for the test: want only %.2f", want)
	}
	if frac < want {
		t.Errorf("b shares %.1f%% of its bytes with a, want >= %.1f%%", 100*frac, 100*want)
	}
}

// TestMembersBoundHugeFile: a file larger than MemberPieceSize is cut
// into pieces of exactly that size, whatever precedes it, so two images
// with the same file share its pieces.
func TestMembersBoundHugeFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	huge := make([]byte, 2*rootfs.MemberPieceSize+12345)
	for i := range huge {
		huge[i] = byte(rng.IntN(16))
	}
	img := func(pre int) v1.Image {
		fs := []imagetest.File{{Name: "pre", Body: strings.Repeat("p", pre)}, {Name: "huge", Body: string(huge)}, {Name: "post", Body: "x"}}
		return imagetest.Image(t, fs)
	}
	_, m1 := writeMembers(t, img(10))
	_, m2 := writeMembers(t, img(100000))
	pieces := func(ms []rootfs.Member) (ps []rootfs.Member) {
		for _, m := range ms {
			if m.Kind == rootfs.MemberPiece {
				ps = append(ps, m)
			}
		}
		return ps
	}
	p1, p2 := pieces(m1), pieces(m2)
	if len(p1) != 3 || p1[0].TarSize != rootfs.MemberPieceSize || p1[1].TarSize != rootfs.MemberPieceSize {
		t.Fatalf("pieces %+v, want 3, the first two of MemberPieceSize tar bytes", p1)
	}
	if len(p2) != len(p1) {
		t.Fatalf("%d pieces after a longer file, want %d", len(p2), len(p1))
	}
	for i := range p1 {
		if p1[i].SHA256 != p2[i].SHA256 {
			t.Errorf("piece %d differs when another file precedes the huge one", i)
		}
	}
}

func TestMembersCancel(t *testing.T) {
	img, _ := generated(t, 2, 400, 32<<10)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n int
	_, err := rootfs.Write(ctx, io.Discard, img, rootfs.WithConcurrency(3), rootfs.WithMembers(func(rootfs.Member) {
		n++
		if n == 2 {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write error %v, want context.Canceled", err)
	}
	noGoroutinesLeft(t, before, "cancel")
}

func TestMembersWriteError(t *testing.T) {
	img, _ := generated(t, 1, 200, 32<<10)
	before := runtime.NumGoroutine()
	_, err := rootfs.Write(context.Background(), &failAfter{n: 3}, img, rootfs.WithMembers(func(rootfs.Member) {}))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write error %v, want the writer's", err)
	}
	noGoroutinesLeft(t, before, "a write error")
}

// failAfter fails its n-th write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n--; f.n <= 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// noGoroutinesLeft waits up to 5 s for the goroutines to be back to before.
func noGoroutinesLeft(t *testing.T, before int, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("%d goroutines left running after %s, %d before", got, after, before)
	}
}

// Members end where one layer's entries give way to the next's (rule 0 of
// docs/format-v2.md section 3), so images on one base share every member
// of the base, however their top layers differ: what b does not share
// with a is its head and its top layer's runs, nothing of the base.
func TestMembersCutAtLayers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var base []imagetest.File
	for f := range 400 {
		base = append(base, imagetest.File{Name: fmt.Sprintf("usr/lib/f%03d", f), Body: imagetest.Text(rng, 1+rng.IntN(40<<10))})
	}
	top := func(name string, n int) []imagetest.File {
		var fs []imagetest.File
		for i := range n {
			fs = append(fs, imagetest.File{Name: fmt.Sprintf("app/%s%d", name, i), Body: strings.Repeat(name, 100*(i+1))})
		}
		return fs
	}
	a := imagetest.Image(t, base, top("a", 3))
	b := imagetest.Configure(t, imagetest.Image(t, base, top("bb", 40)), func(c *v1.Config) { c.User = "b" })
	_, ma := writeMembers(t, a)
	_, mb := writeMembers(t, b)
	have := map[[32]byte]bool{}
	for _, m := range ma {
		have[m.SHA256] = true
	}
	var unshared, topBytes int64
	for _, m := range mb {
		if !have[m.SHA256] {
			unshared += m.TarSize
		}
	}
	for _, f := range top("bb", 40) {
		topBytes += 512 + (int64(len(f.Body))+511)/512*512
	}
	head := mb[0].TarSize
	t.Logf("b: %d members, %d tar bytes not in a's (head %d, top layer %d)", len(mb), unshared, head, topBytes)
	if unshared > head+topBytes+4096 {
		t.Errorf("b has %d tar bytes in members a lacks, more than its head (%d) and top layer (%d): the base's members differ", unshared, head, topBytes)
	}
}

// WithMemberOutput hands each member's bytes to its function, in order and
// before the member is reported, instead of writing them to Write's writer.
func TestMemberOutput(t *testing.T) {
	img, _ := generated(t, 2, 400, 16<<10)
	want, ms := writeMembers(t, img)
	var got, w bytes.Buffer
	var order []string
	_, err := rootfs.Write(context.Background(), &w, img,
		rootfs.WithMemberOutput(func(m rootfs.Member, b []byte) error {
			if int64(len(b)) != m.Size || int64(got.Len()) != m.Offset {
				t.Errorf("member %d: %d bytes at %d, reported as %d at %d", m.Index, len(b), got.Len(), m.Size, m.Offset)
			}
			if c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)); c != m.CRC32C {
				t.Errorf("member %d: CRC32C %08x, its bytes' CRC-32C is %08x", m.Index, m.CRC32C, c)
			}
			got.Write(b)
			order = append(order, fmt.Sprintf("out %d", m.Index))
			return nil
		}),
		rootfs.WithMembers(func(m rootfs.Member) { order = append(order, fmt.Sprintf("report %d", m.Index)) }))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) || w.Len() != 0 {
		t.Errorf("the output got %d bytes (want the %d of the tgz) and the writer %d (want none)", got.Len(), len(want), w.Len())
	}
	if len(order) != 2*len(ms) || order[0] != "out 0" || order[1] != "report 0" {
		t.Errorf("calls %v, want each member's output before its report", order[:min(4, len(order))])
	}
	// An error from the output fails Write.
	boom := errors.New("disk full")
	_, err = rootfs.Write(context.Background(), io.Discard, img, rootfs.WithMembers(func(rootfs.Member) {}),
		rootfs.WithMemberOutput(func(rootfs.Member, []byte) error { return boom }))
	if !errors.Is(err, boom) {
		t.Errorf("Write with a failing output = %v, want %v", err, boom)
	}
}
