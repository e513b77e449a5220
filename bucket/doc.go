// Package bucket is airlock's access to the internal S3 bucket (MinIO, Ceph
// RGW or AWS) that Concourse reads images from: it checks the bucket before
// an import, uploads image tgz files, and audits what the bucket holds
// against a signed manifest.
//
// The one promise that matters is Put's: an object becomes visible only
// complete and verified. Put streams the body with bounded memory (part size
// × (concurrency + 2)), hashes it as it goes, and completes the upload only
// after the last byte matched the expected size and SHA-256; any failure
// aborts the multipart upload so nothing appears under the key. The SHA-256
// is recorded on the object as user metadata (x-amz-meta-sha256) so audits
// can compare without downloading.
//
// Connection settings follow the AWS SDK: the standard credential chain,
// AWS_ENDPOINT_URL_S3, AWS_PROFILE, AWS_CA_BUNDLE and AWS_REQUEST_CHECKSUM_CALCULATION
// (set it to when_required for S3 servers that reject the SDK's default
// CRC32 trailers, such as older Ceph releases).
//
// The package never prints; progress goes to callbacks the caller supplies.
package bucket
