package export

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
)

func layerSum(t *testing.T, img v1.Image) int64 {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

func TestEstimateSizes(t *testing.T) {
	cache, err := stage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var targets []source.Target
	var sums []int64
	for i := range 3 {
		img, err := random.Image(int64(1000*(i+1)), int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		targets = append(targets, source.Target{Request: source.Request{Ref: "r"}, Key: "k", Image: img, Digest: d, Platform: source.DefaultPlatform})
		sums = append(sums, layerSum(t, img))
	}
	o := makeOptions([]Option{WithJobs(1)})
	est, err := estimateSizes(context.Background(), cache, targets, o)
	if err != nil {
		t.Fatal(err)
	}
	all := sums[0] + sums[1] + sums[2]
	if est.bundle != all || est.cache != all+sums[2] {
		t.Fatalf("empty cache: %+v; want bundle %d, cache %d (new tgz files and the largest image's layers)", est, all, all+sums[2])
	}
	// A cached image counts with its tgz size and needs nothing new.
	if _, err := cache.Put(context.Background(), stageKey(targets[2], o), func(w io.Writer) (any, error) {
		_, err := io.WriteString(w, "tgz")
		return nil, err
	}); err != nil {
		t.Fatal(err)
	}
	est, err = estimateSizes(context.Background(), cache, targets, o)
	if err != nil {
		t.Fatal(err)
	}
	if est.bundle != sums[0]+sums[1]+3 || est.cache != sums[0]+sums[1]+sums[1] {
		t.Fatalf("one cached: %+v", est)
	}
	// An estimate beyond MaxParts fails before any conversion.
	o.partSize = bundle.MinPartSize
	targets[0].Image, _ = random.Image(bundle.MaxParts*bundle.MinPartSize, 1)
	err = checkSpace(context.Background(), cache, targets, t.TempDir()+"/b", o)
	var te *bundle.TooManyPartsError
	if !errors.As(err, &te) || !te.Estimated {
		t.Fatalf("err = %v, want an estimated *TooManyPartsError", err)
	}
}

func TestCheckFree(t *testing.T) {
	est := estimate{bundle: 100, cache: 50}
	disks := func(free map[string]uint64, fs map[string]uint64) func(string) (uint64, uint64, bool) {
		return func(dir string) (uint64, uint64, bool) { return free[dir], fs[dir], true }
	}
	tests := []struct {
		name     string
		free, fs map[string]uint64
		folder   string // the folder the error names; "" for none
	}{
		{"one disk, enough", map[string]uint64{"out": 150, "cache": 150}, map[string]uint64{"out": 1, "cache": 1}, ""},
		{"one disk, short", map[string]uint64{"out": 149, "cache": 149}, map[string]uint64{"out": 1, "cache": 1}, "out"},
		{"two disks, enough", map[string]uint64{"out": 100, "cache": 50}, map[string]uint64{"out": 1, "cache": 2}, ""},
		{"two disks, output short", map[string]uint64{"out": 99, "cache": 500}, map[string]uint64{"out": 1, "cache": 2}, "out"},
		{"two disks, cache short", map[string]uint64{"out": 500, "cache": 49}, map[string]uint64{"out": 1, "cache": 2}, "cache"},
	}
	for _, tt := range tests {
		err := checkFree("out", "cache", est, disks(tt.free, tt.fs))
		var se *SpaceError
		switch {
		case tt.folder == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.folder != "" && (!errors.As(err, &se) || se.Folder != tt.folder || se.Free != tt.free[tt.folder]):
			t.Errorf("%s: err = %v, want a *SpaceError for %s", tt.name, err, tt.folder)
		case se != nil && !strings.Contains(err.Error(), "not enough free space in "+tt.folder):
			t.Errorf("%s: message %q", tt.name, err)
		}
	}
	unknown := func(string) (uint64, uint64, bool) { return 0, 0, false }
	if err := checkFree("out", "cache", est, unknown); err != nil {
		t.Errorf("unknown free space: %v", err)
	}
	if free, _, ok := freeSpace(t.TempDir()); runtime.GOOS == "linux" && (!ok || free == 0) {
		t.Errorf("freeSpace of a temporary folder: %d, %v", free, ok)
	}
}
