// Command benchtool is the Go side of bench/run.sh: the speed-limit peers
// (pgzip from memory, Go SHA-256 over a file) and the report that turns the
// raw samples into BENCHMARKS.md. It uses the standard library and pgzip
// only, never airlock's packages, so library changes cannot break it.
//
//	benchtool pgzip BUNDLE.tar    gunzip the bundle's images/ payloads into memory, then
//	                              time pgzip (default level and concurrency) compressing
//	                              them to io.Discard; prints "SECONDS UNCOMPRESSED_BYTES"
//	benchtool sha256 FILE         prints the SHA-256 of FILE
//	benchtool flatsize BUNDLE.tar prints the uncompressed size of its images/ payloads
//	benchtool report RESULTS      prints the Markdown report of a results file
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: benchtool pgzip|sha256|flatsize|report FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "pgzip":
		err = runPgzip(os.Args[2])
	case "sha256":
		err = runSHA256(os.Args[2])
	case "flatsize":
		err = runFlatSize(os.Args[2])
	case "report":
		err = runReport(os.Args[2], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}
