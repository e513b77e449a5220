// Command mkbundle writes the signed bundles of bench/run.sh's objects
// section: N small image entries (NAME/NAME-VERSION.tgz, 100 series of
// N/100 versions, SIZE bytes of reproducible data each) signed by a key
// from airlock keygen. Unlike benchtool it uses airlock's own bundle
// package: an export of thousands of images from a registry would time the
// registry, not import, audit and inventory.
//
//	mkbundle -n 10000 -size 512 -key release.key -o DIR/objects-10000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

func main() {
	n := flag.Int("n", 1000, "image entries")
	size := flag.Int("size", 512, "bytes per entry")
	key := flag.String("key", "", "private key (airlock keygen)")
	out := flag.String("o", "", "bundle base name (writes BASE.tar)")
	flag.Parse()
	if err := run(*n, *size, *key, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkbundle:", err)
		os.Exit(1)
	}
}

func run(n, size int, key, out string) error {
	if n < 1 || size < 1 || key == "" || out == "" {
		return fmt.Errorf("usage: mkbundle -n N -size BYTES -key KEY -o BASE")
	}
	priv, err := keys.LoadPrivate(key)
	if err != nil {
		return err
	}
	payloads := make([]bundle.Payload, n)
	for i := range n {
		name := fmt.Sprintf("obj%02d", i%100)
		version := fmt.Sprintf("1.%d", i/100)
		k := name + "/" + name + "-" + version + ".tgz"
		seed := [32]byte{byte(i), byte(i >> 8), byte(i >> 16)}
		payloads[i] = bundle.Payload{
			Path:  manifest.ImagesFolder + k,
			Image: &manifest.Image{Name: name, Version: version, Key: k},
			Open: func() (io.ReadCloser, error) {
				b := make([]byte, size)
				_, _ = rand.NewChaCha8(seed).Read(b)
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		}
	}
	_, err = bundle.Write(context.Background(), out, priv, payloads)
	return err
}
