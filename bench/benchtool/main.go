// Command benchtool is the Go side of bench/run.sh: the speed-limit
// references (the bare export pipeline over layer blobs on disk or in a
// registry, Go SHA-256 over a file) and the report that turns the raw
// samples into BENCHMARKS.md. It uses the standard library,
// klauspost/compress, pgzip and go-containerregistry only, never airlock's
// packages, so library changes cannot break it.
//
//	benchtool pipeline [-level N] [-j N] -o DIR LAYER[,LAYER...]...
//	                              the export limit: per image (one argument, its layer
//	                              blobs top first) gunzip → tar → rootfs/ names → tar →
//	                              pgzip → SHA-256 → DIR/NNN.tgz, fsynced; -j images at a time
//	benchtool pipeline -pull [-level N] [-j N] -o DIR IMAGE...
//	                              the same, each image's blobs fetched from its registry
//	                              as they are read, each checked against its digest
//	benchtool sha256 FILE         prints the SHA-256 of FILE
//	benchtool flatsize BUNDLE.tar prints the uncompressed size of its images/ payloads
//	benchtool report RESULTS      prints the Markdown report of a results file
//	benchtool salt SALT IN OUT    copies a layer blob with every regular file salted (distinct images)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: benchtool pipeline|sha256|flatsize|report|salt ARGS")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "pipeline":
		err = runPipeline(os.Args[2:], os.Stdout)
	case "sha256":
		err = runSHA256(os.Args[2])
	case "flatsize":
		err = runFlatSize(os.Args[2])
	case "report":
		err = runReport(os.Args[2], os.Stdout)
	case "salt":
		err = runSalt(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}
