package bundle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bundle"
)

// hashedPayloads are f's payloads with size and checksum given, so Write
// opens each only to copy it, after it checked the output name. Every
// Open first waits on ready.
func (f *fixture) hashedPayloads(ready func()) []bundle.Payload {
	var ps []bundle.Payload
	for name, b := range f.data {
		sum := sha256.Sum256(b)
		ps = append(ps, bundle.Payload{Path: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]),
			Open: func() (io.ReadCloser, error) {
				ready()
				return io.NopCloser(bytes.NewReader(b)), nil
			}})
	}
	return ps
}

// TestConcurrentWritesNeverReplace runs two writers of one output name
// that both pass the up-front check: a bundle file never replaces another,
// a loser fails with an *ExistsError and removes all its files, and what
// is left is one whole bundle.
func TestConcurrentWritesNeverReplace(t *testing.T) {
	tests := []struct {
		name         string
		sizes        [2]int64
		alwaysWinner bool // with different shapes both may lose, never both win
	}{
		{"one file each", [2]int64{0, 0}, true},
		{"same number of parts", [2]int64{4096, 4096}, true},
		{"different parts", [2]int64{4096, 2048}, false},
		{"one file against parts", [2]int64{0, 4096}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 {
				raceOnce(t, tt.sizes, tt.alwaysWinner)
			}
		})
	}
}

func raceOnce(t *testing.T, sizes [2]int64, alwaysWinner bool) {
	f := newFixture(t)
	out := filepath.Join(f.dir, "b")
	var started sync.WaitGroup
	started.Add(2)
	var res [2]*bundle.Result
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		var once sync.Once
		ready := func() { once.Do(func() { started.Done(); started.Wait() }) }
		wg.Go(func() {
			res[i], errs[i] = bundle.Write(context.Background(), out, f.priv, f.hashedPayloads(ready),
				bundle.WithPartSize(sizes[i]), bundle.WithCreated(created.Add(time.Duration(i)*time.Hour)))
		})
	}
	wg.Wait()
	var winner *bundle.Result
	for i, err := range errs {
		if err == nil {
			if winner != nil {
				t.Fatal("both writers succeeded")
			}
			winner = res[i]
			continue
		}
		var ee *bundle.ExistsError
		if !errors.As(err, &ee) || !ee.Appeared || !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "appeared while this export ran; another export?") {
			t.Fatalf("loser: %v, want an *ExistsError saying the file appeared", err)
		}
	}
	var left []string
	ents, _ := os.ReadDir(f.dir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "signer.") {
			left = append(left, filepath.Join(f.dir, e.Name()))
		}
	}
	if winner == nil {
		if alwaysWinner {
			t.Fatalf("no writer succeeded: %v", errs)
		}
		if len(left) > 0 {
			t.Fatalf("both lost but left %v", left)
		}
		return
	}
	wrote := slices.Sorted(slices.Values(append(slices.Clone(winner.Files), winner.Extra...)))
	if !slices.Equal(left, wrote) {
		t.Fatalf("folder holds %v, the winner wrote %v", left, wrote)
	}
	if _, err := f.verifyAll(winner.Files[0]); err != nil {
		t.Fatalf("the winner's bundle: %v", err)
	}
}
