package concourse

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Target says where imported images live.
type Target struct {
	Bucket string
	Prefix string
	Region string // optional
}

// Image is what a snippet says about one imported image.
type Image struct {
	Name, Version    string
	Source, Platform string // named in a comment only
	Key              string // relative to Target.Prefix
	Regexp           string // the S3 resource regexp, relative to Target.Prefix
}

// FullRegexp is the regexp of an image whose key is prefix + key.
func FullRegexp(prefix, re string) string { return regexp.QuoteMeta(prefix) + re }

// WriteImageResources writes one commented image_resource per image, as
// YAML documents. The endpoint and credentials are ((vars)) for the
// pipeline to fill. Every value goes through the YAML encoder, so no
// name, version or source can change the structure.
func WriteImageResources(w io.Writer, t Target, images []Image) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, im := range images {
		if err := enc.Encode(imageResource(t, im)); err != nil {
			return fmt.Errorf("writing the image_resource of %s: %w", im.Key, err)
		}
	}
	return enc.Close()
}

func imageResource(t Target, im Image) *yaml.Node {
	source := mapping(
		"bucket", str(t.Bucket),
		"regexp", quoted(FullRegexp(t.Prefix, im.Regexp)),
		"endpoint", str("((s3_endpoint))"),
		"access_key_id", str("((s3_access_key_id))"),
		"secret_access_key", str("((s3_secret_access_key))"),
	)
	if t.Region != "" {
		source.Content = append(source.Content, str("region_name"), str(t.Region))
	}
	version := mapping("path", quoted(t.Prefix+im.Key))
	version.Style = yaml.FlowStyle
	doc := mapping("image_resource", mapping(
		"type", str("s3"),
		"source", source,
		"version", version,
		"params", mapping("unpack", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}),
	))
	doc.Content[0].HeadComment = comment(im.Name, im.Version, "from", im.Source, "("+im.Platform+")")
	return doc
}

// comment renders words as one comment line; a word with anything but
// plain printable ASCII is quoted with its escapes, so it can never end
// the line.
func comment(words ...string) string {
	for i, w := range words {
		if strings.IndexFunc(w, func(r rune) bool { return r < ' ' || r > '~' || r == '"' }) >= 0 {
			words[i] = strconv.QuoteToASCII(w)
		}
	}
	return "# " + strings.Join(words, " ")
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func quoted(s string) *yaml.Node {
	n := str(s)
	n.Style = yaml.SingleQuotedStyle
	return n
}
