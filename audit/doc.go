// Package audit proves that a bucket still holds exactly what signed
// bundles put there: every object the bundle records (package record) list
// is checked for existence, size and recorded sha256 (a deep audit
// downloads and re-hashes it), objects nobody listed under the managed
// folders and incomplete multipart uploads are reported (under the prefix,
// and asked for by each expected key: MinIO lists uploads only by whole
// key). The Report is
// also the evidence record the CLI writes. Drift is a *DriftError.
package audit
