package main

import "github.com/dustin/go-humanize"

// humanBytes renders n in SI units, as transfer media are sold.
func humanBytes(n int64) string { return humanize.Bytes(uint64(max(n, 0))) }
