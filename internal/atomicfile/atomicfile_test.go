package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "out")
	f, err := New(dir, ".tmp-*", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	f.WriteString("one")
	if err := f.Commit(dst); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no-op after Commit
	if b, err := os.ReadFile(dst); err != nil || string(b) != "one" {
		t.Fatalf("%q, %v", b, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
	g, err := New(dir, ".tmp-*", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	g.WriteString("two")
	g.Abort()
	if ns := names(t, dir); len(ns) != 1 || ns[0] != "out" {
		t.Errorf("after Abort: %v", ns)
	}
}

func TestCommitNoReplace(t *testing.T) {
	for name, rename := range map[string]func(string, string) error{"RenameNoReplace": RenameNoReplace, "link fallback": linkUnlink} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "out")
			// Many writers race for one name: exactly one wins, the others
			// fail with ErrExist and the winner's content stays.
			const n = 16
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				wins []string
			)
			for i := range n {
				src := filepath.Join(dir, "src"+string(rune('a'+i)))
				if err := os.WriteFile(src, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					err := rename(src, dst)
					switch {
					case err == nil:
						mu.Lock()
						wins = append(wins, src)
						mu.Unlock()
					case !errors.Is(err, fs.ErrExist):
						t.Errorf("loser: %v, want ErrExist", err)
					}
				})
			}
			wg.Wait()
			if len(wins) != 1 {
				t.Fatalf("%d winners", len(wins))
			}
			if b, _ := os.ReadFile(dst); string(b) != wins[0] {
				t.Errorf("%s holds %q, the winner was %s", dst, b, wins[0])
			}
			if ns := names(t, dir); len(ns) != n {
				t.Errorf("files %v: the losers' sources should stay for their owners to remove", ns)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	boom := errors.New("boom")
	if err := WriteFile(p, 0o644, func(f *os.File) error { f.WriteString("half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if ns := names(t, dir); len(ns) != 0 {
		t.Fatalf("a failed write left %v", ns)
	}
	if err := WriteFile(p, 0o644, func(f *os.File) error { _, err := f.WriteString("whole"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "whole" {
		t.Errorf("%q", b)
	}
	if err := WriteFile(os.DevNull, 0o644, func(f *os.File) error { _, err := f.WriteString("x"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device: %v", os.DevNull, err)
	}
}
