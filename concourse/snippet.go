package concourse

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Target says where imported images live.
type Target struct {
	Bucket string
	Prefix string
	Region string // region_name, when a region was used; else the resource's default (us-east-1)
	// PathStyle sets use_path_style: true, as an endpoint such as MinIO
	// behind a host name needs (the resource defaults to virtual-hosted
	// style, BUCKET.HOST).
	PathStyle bool
	// CABundle adds ca_bundle: ((s3_ca_bundle)), for an endpoint whose TLS
	// certificate a private CA signed.
	CABundle bool
	// Versions says whether the snippets follow each series' newest
	// version or pin the imported one; empty means FollowVersions.
	Versions VersionMode
}

// VersionMode is how a snippet chooses the version of its series.
type VersionMode string

// Version modes.
const (
	// FollowVersions leaves version: out, so the S3 resource's check picks
	// the newest version of the series (the regexp alone), as the seed's
	// pipelines do: a newer import reaches them at their next check.
	FollowVersions VersionMode = "follow"
	// PinVersions sets version: {path: KEY}, so pipelines keep the imported
	// version until the snippet is edited.
	PinVersions VersionMode = "pin"
)

// ParseVersionMode checks a version mode name.
func ParseVersionMode(s string) (VersionMode, error) {
	return parseChoice("version mode", s, FollowVersions, PinVersions)
}

// What a pipeline does when a newer version of its series is imported, in
// the words the snippets' comments and import's series report share.
const (
	FollowEffect = "pipelines that follow the series use the newest version from their next check"
	PinEffect    = "pipelines pinned to a version keep it until their pin is edited"
)

// effect is the comment's account of what m does when a newer version lands.
func (m VersionMode) effect() string {
	if m == PinVersions {
		return "pinned: a newer import changes nothing, " + PinEffect
	}
	return "follows the series: " + FollowEffect
}

// Style is the form of the snippets.
type Style string

// Snippet styles.
const (
	// ImageResourceStyle: one task image_resource per image.
	ImageResourceStyle Style = "image_resource"
	// ResourceStyle: a resources: entry per image, plus a job that gets each
	// with unpack: true and runs a task on it with image: NAME.
	ResourceStyle Style = "resource"
)

// ParseStyle checks a style name.
func ParseStyle(s string) (Style, error) {
	return parseChoice("snippet style", s, ImageResourceStyle, ResourceStyle)
}

// parseChoice returns s when it is one of choices.
func parseChoice[T ~string](what, s string, choices ...T) (T, error) {
	if slices.Contains(choices, T(s)) {
		return T(s), nil
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown %s %q; want %s", what, s, strings.Join(names, " or "))
}

// WriteSnippets writes the snippets of images in style st.
func WriteSnippets(w io.Writer, st Style, t Target, images []Image) error {
	if st == ResourceStyle {
		return WriteResources(w, t, images)
	}
	return WriteImageResources(w, t, images)
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
	if len(images) == 0 { // a YAML stream needs a document
		return nil
	}
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
	ir := mapping("type", str("s3"), "source", source(t, im))
	pin(ir, t, im)
	ir.Content = append(ir.Content, str("params"), unpack())
	doc := mapping("image_resource", ir)
	doc.Content[0].HeadComment = imageComment(t, im)
	return doc
}

// source is the S3 resource's source: block, with the field names of its
// schema.
func source(t Target, im Image) *yaml.Node {
	n := mapping(
		"bucket", str(t.Bucket),
		"regexp", quoted(FullRegexp(t.Prefix, im.Regexp)),
		"endpoint", str("((s3_endpoint))"),
	)
	if t.Region != "" {
		n.Content = append(n.Content, str("region_name"), str(t.Region))
	}
	if t.PathStyle {
		n.Content = append(n.Content, str("use_path_style"), boolean(true))
	}
	if t.CABundle {
		n.Content = append(n.Content, str("ca_bundle"), str("((s3_ca_bundle))"))
	}
	n.Content = append(n.Content,
		str("access_key_id"), str("((s3_access_key_id))"),
		str("secret_access_key"), str("((s3_secret_access_key))"))
	return n
}

// pin adds version: {path: KEY} to the mapping n when t pins versions.
func pin(n *yaml.Node, t Target, im Image) {
	if t.Versions == PinVersions {
		n.Content = append(n.Content, str("version"), flow(mapping("path", quoted(t.Prefix+im.Key))))
	}
}

func unpack() *yaml.Node { return mapping("unpack", boolean(true)) }

func flow(n *yaml.Node) *yaml.Node { n.Style = yaml.FlowStyle; return n }

func imageComment(t Target, im Image) string {
	return comment(im.Name, im.Version, "from", im.Source, "("+im.Platform+");") + " " + t.Versions.effect()
}

// WriteResources writes one YAML document: a resources: entry per image
// (following or pinning versions, like the image_resource form) and a
// job that gets each image with unpack: true and runs a task on it with
// image: NAME. Resource names are the image names, made unique with the
// platform where one name has several.
func WriteResources(w io.Writer, t Target, images []Image) error {
	if len(images) == 0 { // a YAML stream needs a document
		return nil
	}
	names := resourceNames(images)
	resources := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	plan := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, im := range images {
		r := mapping(
			"name", str(names[i]),
			"type", str("s3"),
			"source", source(t, im),
		)
		pin(r, t, im)
		r.HeadComment = imageComment(t, im)
		resources.Content = append(resources.Content, r)
		plan.Content = append(plan.Content,
			mapping("get", str(names[i]), "params", flow(unpack())),
			mapping("task", str("use-"+names[i]), "image", str(names[i]), "config", mapping(
				"platform", str("linux"),
				"run", flow(mapping("path", str("env"))),
			)),
		)
	}
	job := mapping("name", str("use-images"), "plan", plan)
	doc := mapping(
		"resources", resources,
		"jobs", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{job}},
	)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing the resources: %w", err)
	}
	return enc.Close()
}

// resourceNames names each image's resource: its name, or with several
// images of one name, the name and its platform (ubuntu-linux-arm64).
func resourceNames(images []Image) []string {
	count := map[string]int{}
	for _, im := range images {
		count[im.Name]++
	}
	names := make([]string, len(images))
	used := map[string]bool{}
	for i, im := range images {
		n := im.Name
		if count[n] > 1 && im.Platform != "" {
			n += "-" + strings.ReplaceAll(im.Platform, "/", "-")
		}
		for base, k := n, 2; used[n]; k++ {
			n = fmt.Sprintf("%s-%d", base, k)
		}
		used[n] = true
		names[i] = n
	}
	return names
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

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func quoted(s string) *yaml.Node {
	n := str(s)
	n.Style = yaml.SingleQuotedStyle
	return n
}
