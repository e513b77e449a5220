// Command mkbundle writes the signed bundles of bench/run.sh's objects
// section: N small image entries (NAME/NAME-VERSION.tgz, 100 series of
// N/100 versions, SIZE bytes of reproducible data each) signed by a key
// from airlock keygen. Unlike benchtool it uses airlock's own bundle
// package: an export of thousands of images from a registry would time the
// registry, not import, audit and inventory.
//
//	mkbundle -n 10000 -size 512 -key release.key -o DIR/objects-10000
//	mkbundle -n 10000 -bundles 20 -key release.key -o DIR/objects-10000
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
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
	out := flag.String("o", "", "bundle base name (writes BASE.tar, or BASE-1.tar … with -bundles)")
	bundles := flag.Int("bundles", 1, "bundles to split the entries over")
	flag.Parse()
	if err := run(*n, *size, *bundles, *key, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkbundle:", err)
		os.Exit(1)
	}
}

func run(n, size, bundles int, key, out string) error {
	if n < 1 || size < 1 || bundles < 1 || bundles > n || key == "" || out == "" {
		return fmt.Errorf("usage: mkbundle -n N -size BYTES [-bundles B, at most N] -key KEY -o BASE")
	}
	priv, err := keys.LoadPrivate(key)
	if err != nil {
		return err
	}
	if bundles == 1 {
		return write(priv, 0, n, size, out)
	}
	for b := range bundles {
		if err := write(priv, b*n/bundles, (b+1)*n/bundles, size, fmt.Sprintf("%s-%d", out, b+1)); err != nil {
			return err
		}
	}
	return nil
}

// write writes entries [from, to) as the bundle BASE.tar.
func write(priv ed25519.PrivateKey, from, to, size int, out string) error {
	payloads := make([]bundle.Payload, 0, to-from)
	for i := from; i < to; i++ {
		name := fmt.Sprintf("obj%02d", i%100)
		version := fmt.Sprintf("1.%d", i/100)
		k := name + "/" + name + "-" + version + ".tgz"
		seed := [32]byte{byte(i), byte(i >> 8), byte(i >> 16)}
		payloads = append(payloads, bundle.Payload{
			Path:  manifest.ImagesFolder + k,
			Image: &manifest.Image{Name: name, Version: version, Key: k},
			Open: func() (io.ReadCloser, error) {
				b := make([]byte, size)
				_, _ = rand.NewChaCha8(seed).Read(b)
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		})
	}
	_, err := bundle.Write(context.Background(), out, priv, payloads)
	return err
}
