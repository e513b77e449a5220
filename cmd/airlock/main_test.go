package main

import (
	"archive/tar"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/testtool"
	"github.com/airlockhq/airlock/keys"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"airlock": func() { os.Exit(Main()) }})
}

func TestScripts(t *testing.T) {
	reg := imagetest.Registry(t)
	pushScriptImages(t, reg)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg)
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			return setupScript(env)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitCode,
			"mkbundle":  cmdMkbundle,
			"mksigned":  cmdMkSigned,
			"flipbyte":  cmdFlipByte,
			"flipentry": cmdFlipEntry,
			"truncate":  cmdTruncate,
			"filemode":  cmdFileMode,
		},
	})
}

// pushScriptImages fills the scripts' registry:
//
//	library/edge:1.0          imagetest.EdgeCase (whiteouts, links, devices, ...)
//	team/app0:1.0 ... app9:1.9 ten small images
//	library/multi:2.0         an index for linux/amd64 and linux/arm64
//	library/armonly:1.0       a linux/arm64 image
func pushScriptImages(t *testing.T, reg string) {
	imagetest.Push(t, reg+"/library/edge:1.0", imagetest.EdgeCase(t))
	for i := range 10 {
		img := imagetest.Image(t, []imagetest.File{
			imagetest.Dir("app", 0o755),
			{Name: "app/VERSION", Body: fmt.Sprintf("app%d 1.%d\n", i, i)},
		}, []imagetest.File{{Name: "app/data.bin", Body: strings.Repeat(fmt.Sprintf("%d", i), 4096*(i+1))}})
		imagetest.Push(t, fmt.Sprintf("%s/team/app%d:1.%d", reg, i, i), img)
	}
	small := func(arch string) v1.Image {
		return imagetest.Image(t, []imagetest.File{{Name: "arch", Body: arch + "\n"}})
	}
	imagetest.PushIndex(t, reg+"/library/multi:2.0", imagetest.Index(t, map[string]v1.Image{
		"linux/amd64": small("amd64"), "linux/arm64": small("arm64"),
	}))
	cf, err := small("arm64").ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = "arm64"
	arm, err := mutate.ConfigFile(small("arm64"), cf)
	if err != nil {
		t.Fatal(err)
	}
	imagetest.Push(t, reg+"/library/armonly:1.0", arm)
}

// setupScript fails scripts that need a tool CI must have.
func setupScript(env *testscript.Env) error {
	if testtool.CI() {
		for _, tool := range []string{"openssl", "tar", "sha256sum"} {
			if _, err := exec.LookPath(tool); err != nil {
				return fmt.Errorf("CI=true but %s is not installed", tool)
			}
		}
	}
	return nil
}

// exitcode N CMD ARGS... runs CMD and checks its exit code.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("running %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// mkbundle [-part-size N] [-parity K] [-created UNIX] KEY OUT FILE... writes a bundle of FILEs.
func cmdMkbundle(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("mkbundle", flag.ContinueOnError)
	partSize := fs.Int64("part-size", 0, "")
	parity := fs.Int("parity", 0, "")
	createdAt := fs.Int64("created", 1700000000, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 3 {
		ts.Fatalf("usage: mkbundle [-part-size N] KEY OUT FILE...")
	}
	priv, err := keys.LoadPrivate(ts.MkAbs(fs.Arg(0)))
	ts.Check(err)
	var payloads []bundle.Payload
	for _, name := range fs.Args()[2:] {
		p := ts.MkAbs(name)
		payloads = append(payloads, bundle.Payload{Path: filepath.ToSlash(name), Open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
	_, err = bundle.Write(context.Background(), ts.MkAbs(fs.Arg(1)), priv, payloads,
		bundle.WithPartSize(*partSize), bundle.WithParity(*parity), bundle.WithCreated(time.Unix(*createdAt, 0)))
	if (err != nil) != neg {
		ts.Fatalf("mkbundle: %v", err)
	}
}

// flipbyte FILE OFFSET inverts one byte.
func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE OFFSET")
	}
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	b[off] ^= 0xff
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// flipentry TAR ENTRY inverts the first data byte of a tar entry.
func cmdFlipEntry(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: flipentry TAR ENTRY")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	cr := &countReader{r: f}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err != nil {
			f.Close()
			ts.Fatalf("no entry %s in %s: %v", args[1], args[0], err)
		}
		if h.Name == args[1] {
			break
		}
	}
	f.Close()
	cmdFlipByte(ts, false, []string{args[0], strconv.FormatInt(cr.n, 10)})
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// truncate FILE SIZE cuts a file to SIZE bytes.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: truncate FILE SIZE")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

// filemode FILE MODE checks a file's permission bits (octal).
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode FILE MODE")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fmt.Sprintf("%o", fi.Mode().Perm()); got != args[1] {
		ts.Fatalf("%s has mode %s, want %s", args[0], got, args[1])
	}
}
