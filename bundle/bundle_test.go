package bundle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

var created = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	dir     string
	priv    ed25519.PrivateKey
	trusted []keys.Public
	data    map[string][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	if _, err := keys.Generate(filepath.Join(dir, "signer")); err != nil {
		t.Fatal(err)
	}
	priv, err := keys.LoadPrivate(filepath.Join(dir, "signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.LoadPublic(filepath.Join(dir, "signer.pub"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := map[string][]byte{}
	for name, size := range map[string]int{"images/a/a-1.0.tgz": 10000, "images/b/b-2.0.tgz": 3000, "images/c/c-latest.tgz": 0} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		data[name] = b
	}
	return &fixture{dir: dir, priv: priv, trusted: []keys.Public{pub}, data: data}
}

func (f *fixture) payloads() []bundle.Payload {
	var ps []bundle.Payload
	for name, b := range f.data {
		ps = append(ps, bundle.Payload{Path: name, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}})
	}
	return ps
}

func (f *fixture) write(t *testing.T, name string, opts ...bundle.Option) *bundle.Result {
	t.Helper()
	opts = append([]bundle.Option{bundle.WithCreated(created)}, opts...)
	res, err := bundle.Write(context.Background(), filepath.Join(f.dir, name), f.priv, f.payloads(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// verifyAll opens and fully verifies a bundle, returning what it read.
func (f *fixture) verifyAll(args ...string) (map[string][]byte, error) {
	r, err := bundle.Open(args, f.trusted)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	got := map[string][]byte{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		b, err := io.ReadAll(e)
		if err != nil {
			return got, err
		}
		got[e.Path] = b
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	res := f.write(t, "b")
	if len(res.Files) != 1 || filepath.Base(res.Files[0]) != "b.tar" {
		t.Fatalf("files = %v, want b.tar", res.Files)
	}
	got, err := f.verifyAll(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(f.data) {
		t.Fatalf("read %d entries, want %d", len(got), len(f.data))
	}
	for name, want := range f.data {
		if !bytes.Equal(got[name], want) {
			t.Errorf("%s: content differs", name)
		}
	}
}

func TestStreamOrderAndHeaders(t *testing.T) {
	f := newFixture(t)
	res := f.write(t, "b")
	hdrs := tarHeaders(t, res.Files[0])
	want := []string{"SHA256SUMS", "SHA256SUMS.sig", "manifest.json", "images/a/a-1.0.tgz", "images/b/b-2.0.tgz", "images/c/c-latest.tgz"}
	if len(hdrs) != len(want) {
		t.Fatalf("entries = %d, want %d", len(hdrs), len(want))
	}
	for i, h := range hdrs {
		if h.Name != want[i] {
			t.Errorf("entry %d = %s, want %s", i, h.Name, want[i])
		}
		if !h.ModTime.Equal(created) || h.Uname != "" || h.Uid != 0 || h.Mode != 0o644 {
			t.Errorf("entry %s: header not normalised: %+v", h.Name, h)
		}
	}
}

func TestReproducible(t *testing.T) {
	f := newFixture(t)
	a := f.write(t, "one")
	b := f.write(t, "two")
	if !bytes.Equal(readFile(t, a.Files[0]), readFile(t, b.Files[0])) {
		t.Fatal("same payloads, key and time gave different bundles")
	}
	if a.ID != b.ID {
		t.Fatalf("ids differ: %s %s", a.ID, b.ID)
	}
}

func TestPartsConcatenateToWhole(t *testing.T) {
	f := newFixture(t)
	whole := f.write(t, "whole")
	split := f.write(t, "split", bundle.WithPartSize(4096))
	if len(split.Files) < 3 {
		t.Fatalf("expected several parts, got %v", split.Files)
	}
	var cat []byte
	for i, p := range split.Files {
		if want := bundle.PartPath(filepath.Join(f.dir, "split"), i+1); p != want {
			t.Errorf("part %d = %s, want %s", i, p, want)
		}
		b := readFile(t, p)
		if i < len(split.Files)-1 && len(b) != 4096 {
			t.Errorf("part %s is %d bytes, want 4096", p, len(b))
		}
		cat = append(cat, b...)
	}
	if !bytes.Equal(cat, readFile(t, whole.Files[0])) {
		t.Fatal("concatenated parts differ from the unsplit bundle")
	}
	for _, args := range [][]string{{split.Files[0]}, split.Files, {filepath.Join(f.dir, "split")}} {
		if _, err := f.verifyAll(args...); err != nil {
			t.Errorf("verify %v: %v", args, err)
		}
	}
}

func TestWriteRefusesBadOutput(t *testing.T) {
	f := newFixture(t)
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "nope", "b"), f.priv, f.payloads())
	wantErr(t, err, "output folder", "does not exist")

	// A folder that takes no new files: sysfs refuses even root.
	ro := "/sys/fs"
	if os.Geteuid() != 0 {
		ro = t.TempDir()
		os.Chmod(ro, 0o500)
	}
	err = bundle.CheckOutput(filepath.Join(ro, "b"))
	wantErr(t, err, "output folder "+ro+" is not writable")

	f.write(t, "b")
	_, err = bundle.Write(context.Background(), filepath.Join(f.dir, "b"), f.priv, f.payloads())
	wantErr(t, err, "b.tar already exists")
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("err = %v, want fs.ErrExist", err)
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	ps := f.payloads()
	ps[0].Size, ps[0].SHA256 = int64(len(f.data[ps[0].Path])), strings.Repeat("0", 64)
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "bad"), f.priv, ps, bundle.WithPartSize(1024))
	wantErr(t, err, ps[0].Path, "changed since it was hashed")
	assertNoBundleFiles(t, f.dir)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = bundle.Write(ctx, filepath.Join(f.dir, "cancelled"), f.priv, f.payloads())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNoBundleFiles(t, f.dir)
}

func assertNoBundleFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "signer.") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tarHeaders(t *testing.T, p string) []*tar.Header {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(readFile(t, p)))
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hdrs
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
}

// rewrite copies the tar at src to dst, letting edit change the list of
// entries (headers with their contents).
func rewrite(t *testing.T, src, dst string, edit func([]tarEntry) []tarEntry) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(readFile(t, src)))
	var ents []tarEntry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		ents = append(ents, tarEntry{h, b})
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, e := range edit(ents) {
		e.hdr.Size = int64(len(e.body))
		if err := tw.WriteHeader(e.hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

func hdr(name string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, ModTime: created}
}

// tarHeaders0 returns the body of the named entry of a tar file.
func tarHeaders0(t *testing.T, p, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(readFile(t, p)))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no entry %s: %v", p, name, err)
		}
		if h.Name == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

func TestBundleFilesAreReadable(t *testing.T) {
	f := newFixture(t)
	res := f.write(t, "b", bundle.WithPartSize(4096))
	for _, p := range res.Files {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v; want 0644", p, fi.Mode().Perm(), err)
		}
	}
}

func TestTooManyPartsIsRefusedFirst(t *testing.T) {
	f := newFixture(t)
	f.data["images/big.tgz"] = make([]byte, bundle.MaxParts*bundle.MinPartSize)
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "b"), f.priv, f.payloads(), bundle.WithPartSize(bundle.MinPartSize))
	var te *bundle.TooManyPartsError
	if !errors.As(err, &te) || te.Parts <= bundle.MaxParts || te.Estimated || strings.Contains(err.Error(), "changed") {
		t.Fatalf("err = %v, want a *TooManyPartsError", err)
	}
	assertNoBundleFiles(t, f.dir)
	res := f.write(t, "c")
	if fi, err := os.Stat(res.Files[0]); err != nil || fi.Size() != res.Bytes {
		t.Fatalf("bundle is %v bytes, Write said %d", fi, res.Bytes)
	}
}

// closeFunc is a payload reader that runs a function when closed.
type closeFunc struct {
	io.Reader
	close func()
}

func (c closeFunc) Close() error { c.close(); return nil }

// Ctrl-C while the last payload is closed, the part index signed and the
// files renamed (after the last byte was read) still stops the export,
// and leaves no file named like the bundle: no part, index, signature,
// parity part or temporary file.
func TestWriteCancelledAtTheEndLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bundle.Option
	}{
		{"whole", nil},
		{"parts", []bundle.Option{bundle.WithPartSize(1024)}},
		{"parts and parity", []bundle.Option{bundle.WithPartSize(1024), bundle.WithParity(2)}},
	} {
		f := newFixture(t)
		ps := f.payloads()
		for i := range ps {
			t.Run(fmt.Sprintf("%s/cancelled closing payload %d", tc.name, i), func(t *testing.T) {
				dir := t.TempDir()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ps := f.payloads()
				for j := range ps { // hashed: Write opens each once, to write it
					sum := sha256.Sum256(f.data[ps[j].Path])
					ps[j].Size, ps[j].SHA256 = int64(len(f.data[ps[j].Path])), hex.EncodeToString(sum[:])
				}
				open := ps[i].Open
				ps[i].Open = func() (io.ReadCloser, error) {
					rc, err := open()
					return closeFunc{Reader: rc, close: cancel}, err
				}
				_, err := bundle.Write(ctx, filepath.Join(dir, "b"), f.priv, ps, tc.opts...)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
				assertNoBundleFiles(t, dir)
			})
		}
	}
}

// A part size and parity that cannot work are refused before any file is
// created: a part size below one tar block (it once wrote an index no
// reader accepts), parity without parts or beyond Reed-Solomon's 256
// parts, and more data parts than the parity leaves room for.
func TestWriteRefusesASplitThatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		partSize int64
		parity   int
		want     any
		mentions string
	}{
		{100, 0, new(*bundle.SplitError), "below the minimum of 512 bytes"},
		{-1, 0, new(*bundle.SplitError), "below the minimum"},
		{0, 1, new(*bundle.SplitError), "give a part size too"},
		{4096, -1, new(*bundle.SplitError), "0 or more"},
		{4096, 256, new(*bundle.SplitError), "use at most 255"},
		{512, 250, new(*bundle.TooManyPartsError), "at most 6 parts are allowed with 250 parity parts"},
	} {
		t.Run(fmt.Sprintf("%d/%d", tc.partSize, tc.parity), func(t *testing.T) {
			f := newFixture(t)
			_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "b"), f.priv, f.payloads(),
				bundle.WithPartSize(tc.partSize), bundle.WithParity(tc.parity))
			if !errors.As(err, tc.want) {
				t.Fatalf("err = %v (%T), want %T", err, err, tc.want)
			}
			wantErr(t, err, tc.mentions)
			assertNoBundleFiles(t, f.dir)
		})
	}
	te := bundle.CheckParts(10*512, 512, 250, true).(*bundle.TooManyPartsError)
	if te.Parts != 10 || te.Limit() != 6 || !te.Estimated {
		t.Fatalf("CheckParts: %+v", te)
	}
	if err := bundle.CheckParts(6*512, 512, 250, true); err != nil {
		t.Fatalf("6 data and 250 parity parts: %v", err)
	}
	f := newFixture(t)
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, `a\b`), f.priv, f.payloads(), bundle.WithPartSize(1024))
	wantErr(t, err, "cannot be listed in a part index")
	assertNoBundleFiles(t, f.dir)
}

// TestWriteRefusesAHeadReadersRefuse: a bundle whose SHA256SUMS would
// exceed what readers accept is refused before any file is written,
// saying how large it would be.
func TestWriteRefusesAHeadReadersRefuse(t *testing.T) {
	f := newFixture(t)
	const n = 120000 // × ~146 bytes of SHA256SUMS a member: more than 16 MiB
	key := "big/big-1.0.tgz"
	im := manifest.Entry{Path: manifest.ImagesFolder + key, Image: &manifest.Image{Name: "big", Version: "1.0", Key: key},
		Recipe: manifest.RecipePath(key), TarSize: n, Size: n}
	var ps []bundle.Payload
	refuse := func() (io.ReadCloser, error) {
		return nil, errors.New("opened a payload of a bundle that cannot be written")
	}
	for i := range n {
		name := fmt.Sprintf("%064x", i)
		im.Members = append(im.Members, name)
		ps = append(ps, bundle.Payload{Path: manifest.MemberPath(name), Size: 1, SHA256: name, Open: refuse})
	}
	im.SHA256 = strings.Repeat("a", 64)
	recipe := manifest.RecipeBytes(&im)
	rs := sha256.Sum256(recipe)
	sums := manifest.TGZSums([]manifest.Entry{im})
	ss := sha256.Sum256(sums)
	ps = append(ps, bundle.Payload{Path: im.Recipe, Size: int64(len(recipe)), SHA256: hex.EncodeToString(rs[:]), Open: refuse},
		bundle.Payload{Path: manifest.TGZSumsName, Size: int64(len(sums)), SHA256: hex.EncodeToString(ss[:]), Open: refuse})
	_, err := bundle.Write(context.Background(), filepath.Join(f.dir, "big"), f.priv, ps,
		bundle.WithCreated(created), bundle.WithImages([]manifest.Entry{im}))
	var he *bundle.HeadTooLargeError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want a *HeadTooLargeError", err)
	}
	if he.Name != manifest.SumsName || he.Size <= manifest.MaxSumsSize || he.Images != 1 {
		t.Errorf("error %+v: want SHA256SUMS over %d bytes, 1 image", he, manifest.MaxSumsSize)
	}
	wantErr(t, err, "SHA256SUMS would be", "nothing was written")
	assertNoBundleFiles(t, f.dir)
}
