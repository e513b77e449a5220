// Command airlock carries container images across an air gap as signed
// bundles of Concourse rootfs tgz files and loads them into S3.
package main

import (
	"context"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(Main()) }

// Main runs airlock with the process's arguments and returns its exit code.
func Main() int {
	// The S3 transfer manager logs through the standard logger; airlock
	// reports errors itself.
	log.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
}
