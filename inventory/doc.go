// Package inventory says what a bucket holds, and what a delivery still has
// to carry there. Build reads the signature-checked bundle records (package
// record) and checks each recorded image object (package audit) to make a
// Receipt: every image present and intact, with its key, image digest,
// platform, tgz size and sha256 and bundle id; images that are missing,
// drifted or unverified are left out and listed apart. A Receipt may be
// signed with an Ed25519 key (package keys): the signature is detached,
// over the exact bytes of the receipt file, as for a bundle's SHA256SUMS.
//
// Delta compares resolved export targets with a Receipt and decides which
// ones to ship: only what the bucket lacks. See docs/receipt.md for the
// format.
package inventory
