// Package stage is a content-addressed cache of converted rootfs tgz files,
// so an export that is interrupted or repeated does not convert the same
// image twice.
//
// An entry is addressed by Key(manifest digest, platform, converter
// settings) and consists of a data file and a small JSON record beside it
// (size, sha256, caller metadata). Put writes the data to a temporary file
// in the cache directory while hashing and counting it, fsyncs it, renames
// it to a name that includes its sha256, and only then renames the record
// into place: an entry exists only once it is complete, and a failed or
// cancelled Put leaves nothing behind. Because data files are named by
// content, two writers of the same key never overwrite each other's data;
// the last record renamed wins.
//
// Lookup trusts the record but checks the data file's size, dropping
// entries whose file was truncated or removed. It does not re-hash the
// data: the bundle writer hashes every file as it streams it into the
// bundle and compares with Entry.SHA256 there. Entry.Meta has a sum of
// its own in the record (meta_sha256), checked by Lookup: a record whose
// meta was damaged is dropped like an unreadable one. Still, a caller that
// signs what the data says derives it from the data where it can (export
// reads the tgz's own metadata.json).
//
// An entry may use bytes of other entries' data files (PutWithRefs: a
// format 2 export stages a shared base's members once and has the other
// images refer to them). Its record lists those files; Lookup drops the
// entry once one is gone and marks their entries used with it, and Prune
// keeps them while it keeps the entry.
package stage
