// Package bundle writes and reads airlock bundles: one tar stream, optionally
// split into numbered parts, that starts with a signed SHA256SUMS and
// manifest.json and then carries the payload entries they list. Readers
// check the signature before they read a payload byte and hash every entry
// while it streams past. The format is specified in docs/format.md.
package bundle
