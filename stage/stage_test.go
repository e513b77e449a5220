package stage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func open(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "stage"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeString(s string, meta any) func(io.Writer) (any, error) {
	return func(w io.Writer) (any, error) {
		_, err := io.WriteString(w, s)
		return meta, err
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// files lists the cache directory.
func files(t *testing.T, c *Cache) []string {
	t.Helper()
	es, err := os.ReadDir(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestKey(t *testing.T) {
	k := Key(digest, "linux/amd64", "v1")
	if checkKey(k) != nil || k != Key(digest, "linux/amd64", "v1") {
		t.Fatalf("Key = %q, not stable 64 hex digits", k)
	}
	for _, other := range []string{Key(digest, "linux/arm64", "v1"), Key(digest, "linux/amd64", "v2"), Key(digest+"0", "linux/amd64", "v1"), Key(digest, "linux/amd6", "4v1")} {
		if other == k {
			t.Errorf("different inputs share key %s", k)
		}
	}
}

func TestPutLookup(t *testing.T) {
	c := open(t)
	key := Key(digest, "linux/amd64", "v1")
	if _, ok, err := c.Lookup(key); ok || err != nil {
		t.Fatalf("empty cache: Lookup = %v, %v", ok, err)
	}
	type meta struct{ Env []string }
	e, err := c.Put(context.Background(), key, writeString("rootfs bytes", meta{[]string{"A=1"}}))
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Lookup(key)
	if err != nil || !ok {
		t.Fatalf("Lookup after Put = %v, %v", ok, err)
	}
	if got.Path != e.Path || got.Size != 12 || got.SHA256 != sum("rootfs bytes") || string(got.Meta) != `{"Env":["A=1"]}` {
		t.Errorf("entry %+v (Put returned %+v)", got, e)
	}
	if b, err := os.ReadFile(got.Path); err != nil || string(b) != "rootfs bytes" {
		t.Errorf("data %q, %v", b, err)
	}
	if filepath.Dir(got.Path) != c.Dir() {
		t.Errorf("data %s outside %s", got.Path, c.Dir())
	}
	// Replacing the entry; nil meta stays nil.
	if _, err := c.Put(context.Background(), key, writeString("v2", nil)); err != nil {
		t.Fatal(err)
	}
	got, ok, _ = c.Lookup(key)
	if !ok || got.SHA256 != sum("v2") || got.Meta != nil {
		t.Errorf("after replace: %+v", got)
	}
}

func TestFailedPutLeavesNothing(t *testing.T) {
	boom := errors.New("boom")
	tests := map[string]func(cancel func()) func(io.Writer) (any, error){
		"fill error": func(func()) func(io.Writer) (any, error) {
			return func(w io.Writer) (any, error) {
				io.WriteString(w, "partial")
				return nil, boom
			}
		},
		"cancelled": func(cancel func()) func(io.Writer) (any, error) {
			return func(w io.Writer) (any, error) {
				io.WriteString(w, "partial")
				cancel()
				_, err := io.WriteString(w, "more")
				return nil, err
			}
		},
		"cancelled, fill ignores it": func(cancel func()) func(io.Writer) (any, error) {
			return func(w io.Writer) (any, error) {
				cancel()
				return nil, nil
			}
		},
		"unencodable meta": func(func()) func(io.Writer) (any, error) {
			return writeString("x", func() {})
		},
	}
	for name, fill := range tests {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			key := Key(digest, name, "v1")
			_, err := c.Put(ctx, key, fill(cancel))
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if !strings.Contains(err.Error(), "staging "+key) {
				t.Errorf("error %q does not name the key", err)
			}
			if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("error %q is not context.Canceled", err)
			}
			if _, ok, err := c.Lookup(key); ok || err != nil {
				t.Errorf("Lookup = %v, %v; want a miss", ok, err)
			}
			if fs := files(t, c); len(fs) != 0 {
				t.Errorf("left files %v", fs)
			}
		})
	}
}

func TestLookupDropsBrokenEntries(t *testing.T) {
	tests := map[string]func(t *testing.T, c *Cache, key string, e Entry){
		"truncated": func(t *testing.T, c *Cache, key string, e Entry) {
			if err := os.Truncate(e.Path, e.Size-1); err != nil {
				t.Fatal(err)
			}
		},
		"missing data": func(t *testing.T, c *Cache, key string, e Entry) {
			if err := os.Remove(e.Path); err != nil {
				t.Fatal(err)
			}
		},
		"corrupt record": func(t *testing.T, c *Cache, key string, e Entry) {
			if err := os.WriteFile(c.recordPath(key), []byte(`{"format":1,"file":"../x"`), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"one byte of the meta flipped": func(t *testing.T, c *Cache, key string, e Entry) {
			b, err := os.ReadFile(c.recordPath(key))
			if err != nil {
				t.Fatal(err)
			}
			flipped := bytes.Replace(b, []byte("PATH=/usr/bin"), []byte("PATH=/usr/bim"), 1)
			if bytes.Equal(flipped, b) {
				t.Fatalf("the record does not hold the meta: %s", b)
			}
			if err := os.WriteFile(c.recordPath(key), flipped, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			key := Key(digest, "linux/amd64", "v1")
			e, err := c.Put(context.Background(), key, writeString("some rootfs", map[string][]string{"env": {"PATH=/usr/bin"}}))
			if err != nil {
				t.Fatal(err)
			}
			breakIt(t, c, key, e)
			if _, ok, err := c.Lookup(key); ok || err != nil {
				t.Fatalf("Lookup = %v, %v; want a miss", ok, err)
			}
			if _, err := os.Stat(c.recordPath(key)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("record kept: %v", err)
			}
		})
	}
}

func TestInvalidKey(t *testing.T) {
	c := open(t)
	for _, key := range []string{"", "../" + strings.Repeat("a", 61), strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		if _, _, err := c.Lookup(key); err == nil {
			t.Errorf("Lookup(%q) accepted", key)
		}
		if _, err := c.Put(context.Background(), key, writeString("x", nil)); err == nil {
			t.Errorf("Put(%q) accepted", key)
		}
	}
}

func TestConcurrentPuts(t *testing.T) {
	c := open(t)
	same := Key(digest, "same", "v1")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 16 {
		wg.Go(func() {
			big := strings.Repeat(fmt.Sprint(i), 64<<10)
			if _, err := c.Put(context.Background(), Key(digest, fmt.Sprint(i), "v1"), writeString(big, i)); err != nil {
				errs <- err
			}
			// Writers of one key with different content: last wins, whole.
			if _, err := c.Put(context.Background(), same, writeString(big, i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 16 {
		e, ok, err := c.Lookup(Key(digest, fmt.Sprint(i), "v1"))
		if !ok || err != nil || e.SHA256 != sum(strings.Repeat(fmt.Sprint(i), 64<<10)) || string(e.Meta) != fmt.Sprint(i) {
			t.Errorf("entry %d: %+v %v %v", i, e, ok, err)
		}
	}
	e, ok, err := c.Lookup(same)
	if !ok || err != nil {
		t.Fatalf("same key: %v %v", ok, err)
	}
	b, err := os.ReadFile(e.Path)
	if err != nil || sum(string(b)) != e.SHA256 || !bytes.Equal(b, bytes.Repeat([]byte(string(e.Meta)), 64<<10)) {
		t.Errorf("same key: data does not match its record %+v", e)
	}
	for _, f := range files(t, c) {
		if strings.HasPrefix(f, tempPrefix) {
			t.Errorf("temporary file %s left", f)
		}
	}
}

func TestRemoveAndPrune(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	old, fresh, gone := Key(digest, "old", "v1"), Key(digest, "fresh", "v1"), Key(digest, "gone", "v1")
	for _, k := range []string{old, fresh, gone} {
		if _, err := c.Put(ctx, k, writeString(k, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Lookup(gone); ok {
		t.Error("removed entry still found")
	}
	// Age everything, then use fresh; leave a stale temp file and a stranger.
	past := time.Now().Add(-48 * time.Hour)
	stale := filepath.Join(c.Dir(), tempPrefix+"crashed")
	if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir(), "README"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range files(t, c) {
		os.Chtimes(filepath.Join(c.Dir(), f), past, past)
	}
	if _, ok, _ := c.Lookup(fresh); !ok {
		t.Fatal("fresh entry missing")
	}
	freed, err := c.Prune(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Lookup(old); ok {
		t.Error("old entry survived Prune")
	}
	if _, ok, _ := c.Lookup(fresh); !ok {
		t.Error("fresh entry pruned")
	}
	got := strings.Join(files(t, c), " ")
	if strings.Contains(got, tempPrefix) || !strings.Contains(got, "README") || freed == 0 {
		t.Errorf("after Prune (freed %d): %s", freed, got)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	t.Setenv("HOME", "/tmp/home")
	d, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(d, filepath.Join("airlock", "stage")) {
		t.Errorf("DefaultDir = %s", d)
	}
}

func TestListAndShrink(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	now := time.Now()
	var keys []string
	for i := range 3 {
		k := Key(digest, fmt.Sprint(i), "v1")
		keys = append(keys, k)
		if _, err := c.Put(ctx, k, writeString(strings.Repeat("x", 100), nil)); err != nil {
			t.Fatal(err)
		}
		// entry 0 is the oldest, entry 2 the newest
		used := now.Add(time.Duration(i-3) * time.Hour)
		os.Chtimes(c.recordPath(k), used, used)
	}
	infos, err := c.List()
	if err != nil || len(infos) != 3 || infos[0].Key != keys[2] || infos[2].Key != keys[0] || infos[0].Size != 100 {
		t.Fatalf("List = %+v, %v; want newest first", infos, err)
	}
	freed, err := c.Shrink(250)
	if err != nil || freed != 100 {
		t.Fatalf("Shrink(250) freed %d, %v", freed, err)
	}
	if _, ok, _ := c.Lookup(keys[0]); ok {
		t.Error("the least recently used entry survived")
	}
	for _, k := range keys[1:] {
		if _, ok, _ := c.Lookup(k); !ok {
			t.Errorf("entry %s was removed", k)
		}
	}
	if freed, err := c.Shrink(0); err != nil || freed != 200 {
		t.Fatalf("Shrink(0) freed %d, %v", freed, err)
	}
	if infos, _ := c.List(); len(infos) != 0 {
		t.Fatalf("after Shrink(0): %+v", infos)
	}
}

// An entry whose data uses another entry's data file (PutWithRefs) keeps
// it from Prune while it is kept itself, and is broken once it is gone.
func TestRefs(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	lender, borrower := Key(digest, "lender", "v1"), Key(digest, "borrower", "v1")
	le, err := c.Put(ctx, lender, writeString("base members", nil))
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Base(le.Path)
	put := func(refs []string) (Entry, error) {
		return c.PutWithRefs(ctx, borrower, func(w io.Writer) (any, []string, error) {
			_, err := io.WriteString(w, "own members")
			return nil, refs, err
		})
	}
	for _, bad := range [][]string{{"../elsewhere.tgz"}, {"README"}, {lender + ".json"}} {
		if _, err := put(bad); err == nil {
			t.Errorf("PutWithRefs accepted refs %q", bad)
		}
	}
	if got := files(t, c); len(got) != 2 {
		t.Fatalf("refused puts left files: %v", got)
	}
	be, err := put([]string{ref})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok, err := c.Lookup(borrower); err != nil || !ok || len(e.Refs) != 1 || e.Refs[0] != ref {
		t.Fatalf("Lookup = %+v, %v, %v; want refs [%s]", e, ok, err, ref)
	}
	// Age everything; the borrower is used again, the lender not.
	past := time.Now().Add(-48 * time.Hour)
	for _, f := range files(t, c) {
		os.Chtimes(filepath.Join(c.Dir(), f), past, past)
	}
	if _, ok, _ := c.Lookup(borrower); !ok {
		t.Fatal("borrower missing")
	}
	if _, err := c.Prune(time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(le.Path); err != nil {
		t.Fatalf("Prune removed %s, which a kept entry uses: %v", ref, err)
	}
	// The lender was used with the borrower: Shrink takes neither before
	// an older entry.
	old := Key(digest, "old", "v1")
	if _, err := c.Put(ctx, old, writeString("an old conversion", nil)); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(c.recordPath(old), past, past)
	if _, ok, _ := c.Lookup(borrower); !ok {
		t.Fatal("borrower missing")
	}
	if _, err := c.Shrink(le.Size + be.Size); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{lender, borrower} {
		if _, ok, _ := c.Lookup(k); !ok {
			t.Errorf("Shrink removed %s, used just now", k)
		}
	}
	if _, ok, _ := c.Lookup(old); ok {
		t.Error("Shrink kept the old entry")
	}
	if _, ok, _ := c.Lookup(borrower); !ok {
		t.Fatal("borrower pruned")
	}
	// The lender's data gone: the borrower is broken, and removed.
	if err := os.Remove(le.Path); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Lookup(borrower); ok || err != nil {
		t.Fatalf("Lookup of an entry whose referred data is gone = %v, %v; want missing", ok, err)
	}
	if _, err := os.Stat(be.Path); !os.IsNotExist(err) {
		t.Errorf("the broken entry's data file is still there: %v", err)
	}
}
