package rootfs_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/rootfs"
)

// ReadMetadata gives back what Write returned, reading only the head of the
// tgz, and refuses a tgz that does not start with metadata.json.
func TestReadMetadata(t *testing.T) {
	tgz, want := write(t, imagetest.EdgeCase(t))
	got, err := rootfs.ReadMetadata(bytes.NewReader(tgz[:len(tgz)/2]))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadMetadata = %+v, %v; want %+v", got, err, want)
	}
	bad := append([]byte(nil), tgz...)
	bad[0] = 'X'
	if _, err := rootfs.ReadMetadata(bytes.NewReader(bad)); err == nil {
		t.Fatal("a tgz with a garbled gzip header gave metadata")
	}
	if _, err := rootfs.ReadMetadata(bytes.NewReader(nil)); err == nil {
		t.Fatal("an empty file gave metadata")
	}
}
