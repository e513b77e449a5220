package export

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// download writes data into path in chunks, as fetchLayerOnce does, with
// a pause between chunks so the reader catches up and waits.
func download(t *testing.T, path string, p *progress, data []byte, chunk int) {
	t.Helper()
	p.restart()
	f, err := os.Create(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	w := progressWriter{f, p}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			t.Error(err)
			return
		}
		data = data[n:]
		time.Sleep(time.Millisecond)
	}
}

func TestGrowingReaderFollowsTheDownload(t *testing.T) {
	data := bytes.Repeat([]byte("airlock layer bytes "), 50000)
	cases := []struct {
		name    string
		fetch   func(path string, p *progress) // ends the download with p.finish
		want    []byte
		wantErr error
	}{
		{"whole", func(path string, p *progress) {
			download(t, path, p, data, 64<<10)
			p.finish(nil)
		}, data, nil},
		{"fails halfway", func(path string, p *progress) {
			download(t, path, p, data[:len(data)/2], 64<<10)
			p.finish(errors.New("connection reset"))
		}, data[:len(data)/2], errors.New("connection reset")},
		{"restarted after a stall", func(path string, p *progress) {
			download(t, path, p, data[:len(data)/3], 64<<10)
			download(t, path, p, data, 100<<10) // truncates, starts over
			p.finish(nil)
		}, data, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "blob")
			var p progress
			p.init()
			r := &growingReader{path: path, p: &p}
			defer r.Close()
			go c.fetch(path, &p) // the reader starts before the file exists
			got, err := io.ReadAll(r)
			if (err == nil) != (c.wantErr == nil) || (err != nil && err.Error() != c.wantErr.Error()) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("read %d bytes, want %d (the same bytes: %v)", len(got), len(c.want), bytes.HasPrefix(c.want, got))
			}
		})
	}
}

// Bytes that break the gzip stream before the download ends are blamed on
// the download when it fails (a digest mismatch), not on the gzip reader.
func TestReadErrorNamesTheFailedDownload(t *testing.T) {
	var b blob
	b.path = filepath.Join(t.TempDir(), "blob")
	b.progress.init()
	l := &fileLayer{blob: &b}
	go func() {
		download(t, b.path, &b.progress, append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0xff}, 4096)...), 1024)
		time.Sleep(20 * time.Millisecond)
		b.progress.finish(errors.New("fetching layer sha256:abc: digest mismatch"))
	}()
	rc, err := l.Uncompressed()
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	if err == nil || err.Error() != "fetching layer sha256:abc: digest mismatch" {
		t.Fatalf("err = %v, want the download's failure", err)
	}
}
