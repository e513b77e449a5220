// Package bundle writes and reads airlock bundles: one tar stream, optionally
// split into numbered parts, that starts with a signed SHA256SUMS and
// manifest.json and then carries the payload entries they list. Readers
// check the signature before they read a payload byte and hash every entry
// while it streams past. A split bundle has a signed part index and,
// optionally, Reed-Solomon parity parts; PartSet checks parts on their own
// (CheckAll) and Repair rebuilds lost ones. Every file name of a bundle is
// formatted and read by one grammar (FileName). The parity mechanics live
// behind package bundle/stripe. The format is specified in docs/format.md.
package bundle
