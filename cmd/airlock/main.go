// Command airlock carries container images across an air gap as signed
// bundles of Concourse rootfs tgz files and loads them into S3.
package main

import (
	"context"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the soft limit of the Go heap (see runtime/debug).
const memoryLimit = 160 << 20

func main() { os.Exit(Main()) }

// Main runs airlock with the process's arguments and returns its exit code.
func Main() int {
	// The S3 transfer manager logs through the standard logger; airlock
	// reports errors itself.
	log.SetOutput(io.Discard)
	// Keep the heap small while streaming gigabytes through fixed buffers
	// (upload parts are reallocated per object); GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels the work, which then winds down cleanly; a
	// second one kills the process the default way.
	go func() { <-ctx.Done(); stop() }()
	return run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
}
