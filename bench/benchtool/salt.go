package main

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/klauspost/pgzip"
)

// runSalt writes OUT, a copy of the layer blob IN in which every regular
// file starts with a line naming SALT: the same tree, sizes and
// compressibility, but no file content shared with a copy of another
// salt, so images made of salted layers share nothing (the bench's
// "distinct images"). The line comes first, and when SALT ends in a
// number N it carries N dots more, so that no stretch of a file is the
// same in two copies: format 2 cuts a large file into 4 MiB pieces from
// its first byte (format-v2.md section 3), so a salt at the end would
// leave every piece but the last alike, and salts of one length would
// leave every piece but the first alike.
//
//	benchtool salt SALT IN.tar.gz OUT.tar.gz
func runSalt(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: benchtool salt SALT IN.tar.gz OUT.tar.gz")
	}
	salt := []byte(fmt.Sprintf("# %s %s\n", args[0], strings.Repeat(".", trailingNumber(args[0]))))
	in, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := pgzip.NewReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	tmp := args[2] + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	zw, err := pgzip.NewWriterLevel(bw, 6)
	if err != nil {
		return err
	}
	if err := zw.SetConcurrency(pgzipBlockSize, runtime.GOMAXPROCS(0)); err != nil {
		return err
	}
	tr, tw := tar.NewReader(zr), tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		regular := hdr.Typeflag == tar.TypeReg
		if regular {
			hdr.Size += int64(len(salt))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if regular {
			if _, err := tw.Write(salt); err != nil {
				return err
			}
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("%s: %s: %w", args[1], hdr.Name, err)
		}
	}
	for _, c := range []io.Closer{tw, zw} {
		if err := c.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, args[2])
}

// trailingNumber is the number s ends in, or 0.
func trailingNumber(s string) int {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return n
}
