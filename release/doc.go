// Package release finds airlock's own release binaries to carry across the
// gap with a bundle (docs/format.md section 14): the files make dist
// writes, each checked against the dist folder's SHA256SUMS and asked for
// the version it was built as, or the running binary for its own
// platform. It reads files and prints nothing.
package release
