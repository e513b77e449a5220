package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// eachPayload calls fn with the uncompressed stream of every images/ entry
// of a bundle.
func eachPayload(bundlePath string, fn func(name string, r io.Reader) error) error {
	f, err := os.Open(bundlePath)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", bundlePath, err)
		}
		if !strings.HasPrefix(hdr.Name, "images/") {
			continue
		}
		zr, err := gzip.NewReader(tr)
		if err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		if err := fn(hdr.Name, zr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		zr.Close()
	}
}

func runFlatSize(bundlePath string) error {
	var total int64
	err := eachPayload(bundlePath, func(_ string, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		total += n
		return err
	})
	if err != nil {
		return err
	}
	fmt.Println(total)
	return nil
}

// runSHA256 is the "verify, vs limit" peer: one streaming SHA-256 over the
// bundle file.
func runSHA256(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return err
	}
	fmt.Println(hex.EncodeToString(h.Sum(nil)))
	return nil
}
