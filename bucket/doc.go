// Package bucket is airlock's S3 store: one bucket on one endpoint (MinIO,
// Ceph RGW or AWS), the bucket Concourse reads images from. It opens and
// checks the bucket, stats, lists, reads and uploads objects, finds and
// aborts incomplete multipart uploads, and classifies S3 failures into
// typed errors. It knows nothing of bundles: importer and audit build on it.
//
// The one promise that matters is Put's: an object becomes visible only
// complete. Put streams the body with bounded memory (part size ×
// (concurrency + 2)) and completes the upload only after the body ended
// cleanly with exactly the declared size; a body that fails (a verifying
// reader that found a mismatch) aborts the multipart upload so nothing
// appears under the key. The SHA-256 is recorded on the object as user
// metadata (x-amz-meta-sha256) so audits can compare without downloading.
//
// Connection settings follow the AWS SDK: the standard credential chain,
// AWS_ENDPOINT_URL_S3, AWS_PROFILE, AWS_CA_BUNDLE and AWS_REQUEST_CHECKSUM_CALCULATION
// (set it to when_required for S3 servers that reject the SDK's default
// CRC32 trailers, such as older Ceph releases).
//
// The package never prints; progress goes to callbacks the caller supplies.
package bucket
