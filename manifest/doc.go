// Package manifest defines what a bundle says about itself: the SHA256SUMS
// checksum list that is signed, and manifest.json, which describes every
// payload entry and, for images, where it came from and where it goes.
// The formats are specified in docs/format.md.
package manifest
