package source

import (
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Target is one image for one platform, ready to be converted and stored
// under Key. Resolve fills Digest, IndexDigest and Image from the
// registry, everything else from the request.
type Target struct {
	// Request is what the user wrote; note that Target.Ref shadows
	// Request.Ref (use t.Request.Ref for the reference as written).
	Request
	Ref     name.Reference
	Name    string
	Version string
	// Key is the S3 key, e.g. "ubuntu/ubuntu-22.04.tgz".
	Key string
	// Regexp is the S3 resource regexp that selects this series'
	// versions, e.g. `ubuntu/ubuntu-(.*)\.tgz`.
	Regexp string
	// Platform is the requested platform the image satisfies; the key is
	// built from it. The image's own config may be more specific (an
	// arm64 image may say variant v8).
	Platform v1.Platform
	// Digest is the image manifest digest.
	Digest v1.Hash
	// IndexDigest is the digest of the index Digest was chosen from, or
	// nil when the reference named a single image.
	IndexDigest *v1.Hash
	// Image reads the image lazily from the registry.
	Image v1.Image

	// has names the platforms the reference has, when it lacks Platform
	// (Image stays nil); see selectPlatforms.
	has string
}
