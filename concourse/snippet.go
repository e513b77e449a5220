package concourse

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/airlockhq/airlock/manifest"
)

// Regexp is the S3 resource regexp that selects every version of the
// image series key belongs to: key with its version replaced by (.*).
func Regexp(key, version string) string {
	i := strings.LastIndex(key, version)
	if version == "" || i < 0 {
		return regexp.QuoteMeta(key)
	}
	return regexp.QuoteMeta(key[:i]) + "(.*)" + regexp.QuoteMeta(key[i+len(version):])
}

// Target says where imported images live.
type Target struct {
	Bucket string
	Prefix string
	Region string // optional
}

// WriteImageResources writes one commented image_resource per image entry.
// The endpoint and credentials are ((vars)) for the pipeline to fill.
func WriteImageResources(w io.Writer, t Target, entries []manifest.Entry) error {
	for _, e := range entries {
		if e.Image == nil {
			continue
		}
		if err := writeOne(w, t, e.Image); err != nil {
			return err
		}
	}
	return nil
}

func writeOne(w io.Writer, t Target, im *manifest.Image) error {
	key := t.Prefix + im.Key
	region := ""
	if t.Region != "" {
		region = fmt.Sprintf("    region_name: %s\n", t.Region)
	}
	_, err := fmt.Fprintf(w, `# %s %s from %s (%s)
image_resource:
  type: s3
  source:
    bucket: %s
    regexp: '%s'
    endpoint: ((s3_endpoint))
    access_key_id: ((s3_access_key_id))
    secret_access_key: ((s3_secret_access_key))
%s  version: {path: '%s'}
  params:
    unpack: true
---
`, im.Name, im.Version, im.Source, im.Platform, t.Bucket, Regexp(key, im.Version), region, key)
	return err
}
