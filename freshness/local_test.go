package freshness

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestReserveNeverHandsOutASequenceTwice(t *testing.T) {
	key := filepath.Join(t.TempDir(), "airlock.key")
	const n = 20
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := Reserve(key, "prod")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[r.Sequence] {
				t.Errorf("sequence %d handed out twice", r.Sequence)
			}
			seen[r.Sequence] = true
		}()
	}
	wg.Wait()
	for i := uint64(1); i <= n; i++ {
		if !seen[i] {
			t.Errorf("sequence %d not handed out; got %v", i, seen)
		}
	}
}

func TestReserveAfterAFailedExportTakesTheNextSequence(t *testing.T) {
	key := filepath.Join(t.TempDir(), "airlock.key")
	r1, err := Reserve(key, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.Complete(strings.Repeat("a", 64)); err != nil {
		t.Fatal(err)
	}
	if _, err := Reserve(key, "prod"); err != nil { // an export that then fails
		t.Fatal(err)
	}
	r3, err := Reserve(key, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if r3.Sequence != 3 || r3.Previous != strings.Repeat("a", 64) {
		t.Fatalf("third reservation = %+v, want sequence 3 after bundle 1", r3)
	}
	other, err := Reserve(key, "test")
	if err != nil || other.Sequence != 1 || other.Previous != "" {
		t.Fatalf("another channel: %+v, %v", other, err)
	}
	// A late completion of an older sequence does not move previous back.
	if err := r3.Complete(strings.Repeat("c", 64)); err != nil {
		t.Fatal(err)
	}
	if err := r1.Complete(strings.Repeat("b", 64)); err != nil {
		t.Fatal(err)
	}
	r4, _ := Reserve(key, "prod")
	if r4.Previous != strings.Repeat("c", 64) {
		t.Fatalf("previous = %s, want bundle 3's", r4.Previous)
	}
	entries, _ := os.ReadDir(filepath.Dir(key))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".state-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestReserveRefusesABadChannelAndADamagedState(t *testing.T) {
	key := filepath.Join(t.TempDir(), "airlock.key")
	if _, err := Reserve(key, "../x"); err == nil {
		t.Fatal("channel ../x accepted")
	}
	if err := os.WriteFile(StatePath(key), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Reserve(key, "prod"); err == nil || !strings.Contains(err.Error(), StatePath(key)) {
		t.Fatalf("damaged state: %v, want an error naming the file", err)
	}
}
