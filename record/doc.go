// Package record keeps each imported bundle's signed head (SHA256SUMS, its
// signature and manifest.json) in the bucket under
// PREFIX/.airlock/bundles/ID/, and reads those records back, checking their
// signatures, to say what the bucket should hold. import writes records;
// audit (and later inventory) reads them. See docs/format.md.
package record
