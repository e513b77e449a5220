package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/inventory"
)

// baseFiles is a base layer of 24 MB that does not compress, cut into
// about 12 members.
func baseFiles() []imagetest.File {
	var files []imagetest.File
	for i := range 48 {
		b, _ := buckettest.Data(512<<10, uint64(i))
		files = append(files, imagetest.File{Name: fmt.Sprintf("usr/lib/base/lib%02d.so", i), Body: string(b)})
	}
	return files
}

// Images on one base go through a format 2 bundle and land as the same
// objects a format 1 bundle lands: the assembled tgz decompresses to the
// tar stream of format 1's, byte for byte, and GNU tar (as the S3
// resource's unpack runs it) unpacks it. The format 2 bundle carries the
// base once. A weekly refresh whose base gained one file then ships, with
// --have, a delta of only what changed, which import completes from the
// bucket.
func TestFormat2LandsWhatFormat1Lands(t *testing.T) {
	tar, err := exec.LookPath("tar")
	if err != nil {
		t.Fatal("GNU tar is needed to unpack as the S3 resource does:", err)
	}
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "images")
	reg := imagetest.Registry(t)
	base := baseFiles()
	for i, name := range []string{"app", "svc", "tool"} {
		imagetest.Push(t, reg+"/team/"+name+":1.0", imagetest.Image(t, base, []imagetest.File{{Name: "etc/" + name, Body: strings.Repeat(name, 1000+i)}}))
	}
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	key := filepath.Join(dir, "release")
	runAirlock(t, 0, "keygen", "-o", key)
	refs := []string{reg + "/team/app:1.0", reg + "/team/svc:1.0", reg + "/team/tool:1.0"}
	sizes := map[string]int64{}
	for _, format := range []string{"1", "2"} {
		b := filepath.Join(dir, "v"+format)
		runAirlock(t, 0, append([]string{"export", "--format", format, "--key", key + ".key", "-o", b}, refs...)...)
		fi, err := os.Stat(b + ".tar")
		if err != nil {
			t.Fatal(err)
		}
		sizes[format] = fi.Size()
		runAirlock(t, 0, "import", b+".tar", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v"+format)
	}
	t.Logf("format 1 bundle %d bytes, format 2 %d", sizes["1"], sizes["2"])
	if sizes["2"] > sizes["1"]/3+1<<20 {
		t.Errorf("format 2 bundle %d bytes, format 1 %d: the shared base should cross once", sizes["2"], sizes["1"])
	}
	s := buckettest.Open(t, srv, "images")
	for _, name := range []string{"app", "svc", "tool"} {
		k := name + "/" + name + "-1.0.tgz"
		one, two := gunzipped(t, s, "v1/"+k), gunzipped(t, s, "v2/"+k)
		if !bytes.Equal(one, two) {
			t.Errorf("%s: format 2's object decompresses to %d bytes, not format 1's %d-byte tar stream", k, len(two), len(one))
		}
		out := filepath.Join(dir, "unpack-"+name)
		os.MkdirAll(out, 0o755)
		get(t, s, "v2/"+k, filepath.Join(dir, name+".tgz"))
		cmd := exec.Command("sh", "-c", `gunzip -c "$1" | "$2" xf - -C "$3"`, "sh", filepath.Join(dir, name+".tgz"), tar, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("unpacking %s as the S3 resource does: %v\n%s", k, err, b)
		}
		if b, err := os.ReadFile(filepath.Join(out, "rootfs", "etc", name)); err != nil || !strings.HasPrefix(string(b), name) {
			t.Errorf("%s unpacked: rootfs/etc/%s: %v", k, name, err)
		}
		if _, err := os.Stat(filepath.Join(out, "metadata.json")); err != nil {
			t.Errorf("%s unpacked: %v", k, err)
		}
	}
	runAirlock(t, 0, "audit", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v2", "--deep")

	// The weekly refresh: the base was rebuilt with one more file.
	refreshed := append(baseFiles(), imagetest.File{Name: "usr/lib/base/new.so", Body: "new\n"})
	imagetest.Push(t, reg+"/team/app:1.1", imagetest.Image(t, refreshed, []imagetest.File{{Name: "etc/app", Body: strings.Repeat("app", 1001)}}))
	receipt := filepath.Join(dir, "receipt.json")
	runAirlock(t, 0, "inventory", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v2", "-o", receipt)
	var rc inventory.Receipt
	raw, _ := os.ReadFile(receipt)
	if err := json.Unmarshal(raw, &rc); err != nil || len(rc.Images) != 3 || len(rc.Members) < 3 {
		t.Fatalf("receipt: %v; want 3 images and a table of their members: %s", err, raw)
	}
	holders := map[string]bool{}
	for _, m := range rc.Members {
		holders[m.Key] = true
	}
	for _, im := range rc.Images {
		if len(im.Members) > 0 {
			t.Errorf("image %s lists its own members; the receipt's table should", im.Key)
		}
	}
	if !holders["app/app-1.0.tgz"] {
		t.Errorf("no member is held by app/app-1.0.tgz, the smallest key: %v", holders)
	}
	delta := filepath.Join(dir, "delta")
	runAirlock(t, 0, "export", "--format", "2", "--key", key+".key", "-o", delta, "--have", receipt, "--have-unsigned", "--have-prefix", "v2", reg+"/team/app:1.1")
	full := filepath.Join(dir, "full")
	runAirlock(t, 0, "export", "--format", "2", "--key", key+".key", "-o", full, reg+"/team/app:1.1")
	dfi, _ := os.Stat(delta + ".tar")
	ffi, _ := os.Stat(full + ".tar")
	t.Logf("refresh: delta %d bytes, full %d", dfi.Size(), ffi.Size())
	if dfi.Size() > ffi.Size()*15/100 {
		t.Errorf("the delta is %d bytes, the full bundle %d: more than 15%%", dfi.Size(), ffi.Size())
	}
	out, _ := runAirlock(t, 0, "inspect", "--json", "--pub", key+".pub", delta+".tar")
	var in struct {
		Manifest struct {
			Have []struct{ Key string } `json:"have"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil || len(in.Manifest.Have) < 5 || in.Manifest.Have[0].Key != "app/app-1.0.tgz" {
		t.Errorf("the delta's have list: %+v, %v; want the unchanged base members, in the smallest key holding them", in.Manifest.Have, err)
	}
	// The standard-tools recipe (docs/format-v2.md section 7) rebuilds the
	// delta's image once the objects its have list names are fetched to
	// have/<key>.
	out2 := filepath.Join(dir, "delta-out")
	if err := os.MkdirAll(out2, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("tar", "-xf", delta+".tar", "-C", out2).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	for _, h := range in.Manifest.Have {
		p := filepath.Join(out2, "have", h.Key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		get(t, s, "v2/"+h.Key, p)
	}
	recipe := "set -e\ncd \"$1\"\n" + bundletest.RebuildRecipe
	if b, err := exec.Command("sh", "-c", recipe, "sh", out2).CombinedOutput(); err != nil || !strings.Contains(string(b), "images/app/app-1.1.tgz: OK") {
		t.Errorf("the delta's recipe with the have objects fetched: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(filepath.Join(out2, "recipes", "app", "app-1.1.tgz.members")); !strings.Contains(string(b), "have/app/app-1.0.tgz ") {
		t.Errorf("the delta's recipe reads nothing from have/app/app-1.0.tgz:\n%s", b)
	}
	runAirlock(t, 0, "import", delta+".tar", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v2")
	runAirlock(t, 0, "import", full+".tar", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v2full")
	if a, b := gunzipped(t, s, "v2/app/app-1.1.tgz"), gunzipped(t, s, "v2full/app/app-1.1.tgz"); !bytes.Equal(a, b) {
		t.Errorf("the image assembled from the delta and the bucket differs from the full bundle's")
	}
	runAirlock(t, 0, "audit", "--pub", key+".pub", "--bucket", "images", "--endpoint", srv.Endpoint, "--prefix", "v2", "--deep")
}

// gunzipped is the decompressed object at key.
func gunzipped(t *testing.T, s *bucket.Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s does not decompress as one stream: %v", key, err)
	}
	return b
}

func get(t *testing.T, s *bucket.Store, key, path string) {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
}
