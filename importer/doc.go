// Package importer is the disconnected side's job: it loads a bundle whose
// signature has been checked into an S3 bucket (package bucket) in one pass,
// streaming each entry into an upload while the bundle reader hashes it, so
// no unverified object ever becomes visible. It plans before it writes
// (refusing to overwrite other content), writes with S3 conditional writes
// so a second import at the same time cannot be overwritten silently,
// cleans up incomplete multipart uploads, and keeps the bundle's signed
// head in the bucket (package record). It reports progress through an
// event callback and never prints.
package importer
