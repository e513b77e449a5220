package main

import (
	"strconv"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"
)

// pushimage [-size BYTES] REF [FROM] pushes a new random image (two layers
// of BYTES, default 2048) to REF (an upstream change), or with FROM the
// image FROM names (a retag: same digest).
func cmdPushImage(ts *testscript.TestScript, neg bool, args []string) {
	size := int64(2048)
	if len(args) > 2 && args[0] == "-size" {
		n, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		size, args = n, args[2:]
	}
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: pushimage [-size BYTES] REF [FROM]")
	}
	ref, err := name.ParseReference(args[0])
	ts.Check(err)
	if len(args) == 2 {
		from, err := name.ParseReference(args[1])
		ts.Check(err)
		img, err := remote.Image(from)
		ts.Check(err)
		ts.Check(remote.Write(ref, img))
		return
	}
	img, err := random.Image(size, 2)
	ts.Check(err)
	ts.Check(remote.Write(ref, img))
}
