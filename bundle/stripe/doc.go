// Package stripe is the one seam between airlock's bundles and
// Reed-Solomon parity (docs/format.md, section 11): it reads part files
// side by side, block by block (a stripe at a time), each zero-padded to
// the shard size, and in one pass computes parity parts (Encode), rebuilds
// lost parts from any others (Rebuild) or hashes parts (Hash). Every file
// is read and hashed on a goroutine of its own, outputs are written and
// hashed while the next stripe is read, and memory stays within a fixed
// bound whatever the number of parts. Package bundle decides what to
// encode, check and rebuild; this package only does it.
package stripe
