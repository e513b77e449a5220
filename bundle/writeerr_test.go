package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullDisk fails like a file on a full disk, as partWriter reports it.
type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) {
	return 0, &WriteError{Path: "out.tar.002", Err: syscall.ENOSPC}
}

func TestFullDiskIsNotAChangedPayload(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 4096)
	sum := sha256.Sum256(data)
	p := Payload{Path: "images/a.tgz", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	_, err := writePayload(context.Background(), tar.NewWriter(fullDisk{}), options{created: time.Unix(0, 0)}, p, make([]byte, 4096))
	if !errors.Is(err, syscall.ENOSPC) || err.Error() != "no space left on device writing out.tar.002" {
		t.Fatalf("err = %v, want \"no space left on device writing out.tar.002\"", err)
	}
	if strings.Contains(err.Error(), "changed") {
		t.Fatalf("err = %v blames the payload", err)
	}
}

func TestStreamSizeIsExact(t *testing.T) {
	created := time.Unix(1700000000, 0)
	for _, sizes := range [][]int64{{0}, {1, 511, 512, 513}, {100000}} {
		var ps []Payload
		for i, n := range sizes {
			name := "images/" + strings.Repeat("n", 90+i*20) + ".tgz" // long names need PAX headers
			ps = append(ps, Payload{Path: name, Size: n})
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, p := range ps {
			tw.WriteHeader(header(p.Path, p.Size, created))
			tw.Write(make([]byte, p.Size))
		}
		tw.Close()
		var meta bytes.Buffer
		mw := tar.NewWriter(&meta)
		for _, f := range []string{"SHA256SUMS", "SHA256SUMS.sig", "manifest.json"} {
			mw.WriteHeader(header(f, 7, created))
			mw.Write([]byte("1234567"))
		}
		mw.Flush()
		got, err := streamSize(created, []byte("1234567"), []byte("1234567"), []byte("1234567"), ps)
		if want := int64(buf.Len() + meta.Len()); err != nil || got != want {
			t.Errorf("sizes %v: streamSize = %d, %v; want %d", sizes, got, err, want)
		}
	}
}
