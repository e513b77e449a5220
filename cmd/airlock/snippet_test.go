package main

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gopkg.in/yaml.v3"

	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/miniotest"
)

// runAirlock runs the CLI in-process and fails t unless it exits with want.
func runAirlock(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != want {
		t.Fatalf("airlock %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// TestSnippetWorksAsEmitted imports into MinIO reached by a host name and
// then does what Concourse and the S3 resource do with each emitted
// snippet: fill the ((vars)), build a client from the source fields (path
// style from use_path_style, region from region_name), run the resource's
// check (the regexp applied per key level; without a version, the newest
// in go-semi-semantic order), take the pinned version where there is one,
// and get that key. After a second, newer import, a snippet that follows
// its series resolves to the new key and a pinned one to its own.
func TestSnippetWorksAsEmitted(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "images")
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://localhost:" + u.Port() // a host name: virtual-hosted style would ask images.localhost
	reg := imagetest.Registry(t)
	imagetest.Push(t, reg+"/team/tool:1.0", imagetest.Image(t, []imagetest.File{{Name: "etc/tool", Body: "1.0\n"}}))
	imagetest.Push(t, reg+"/team/tool:1.10", imagetest.Image(t, []imagetest.File{{Name: "etc/tool", Body: "1.10\n"}}))

	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	key := filepath.Join(dir, "release")
	runAirlock(t, 0, "keygen", "-o", key)
	type snippet struct{ version, style, mode, yml string }
	var snippets []snippet
	for _, v := range []string{"1.0", "1.10"} { // 1.10 > 1.0, and > 1.9 too: numeric order, not string order
		b := filepath.Join(dir, "b"+v)
		runAirlock(t, 0, "export", reg+"/team/tool:"+v, "--key", key+".key", "-o", b)
		for _, style := range []string{"image_resource", "resource"} {
			for _, mode := range []string{"", "follow", "pin"} {
				sn := snippet{v, style, mode, filepath.Join(dir, style+mode+v+".yml")}
				args := []string{"import", b + ".tar", "--pub", key + ".pub", "--bucket", "images", "--endpoint", endpoint,
					"--region", "us-east-1", "--prefix", "ci", "--concourse", sn.yml, "--concourse-style", style}
				if mode != "" {
					args = append(args, "--concourse-version", mode)
				}
				runAirlock(t, 0, args...)
				snippets = append(snippets, sn)
			}
		}
	}
	for _, sn := range snippets {
		want := "ci/tool/tool-1.10.tgz" // follow (the default): the newest, whichever import wrote the snippet
		if sn.mode == "pin" {
			want = "ci/tool/tool-" + sn.version + ".tgz"
		}
		for _, src := range snippetSources(t, sn.yml, sn.style) {
			if src.Source["use_path_style"] != true || src.Source["region_name"] != "us-east-1" {
				t.Errorf("%s: source lacks use_path_style: true or region_name: %v", sn.yml, src.Source)
			}
			if _, pinned := src.Version["path"]; pinned != (sn.mode == "pin") {
				t.Errorf("%s: version: %v, want a pin only with --concourse-version pin", sn.yml, src.Version)
			}
			if got := fetchLikeTheResource(t, src, endpoint, srv); got != want {
				t.Errorf("%s (imported at %s): Concourse uses %s, want %s", sn.yml, sn.version, got, want)
			}
		}
	}
}

type snippetSource struct {
	Source  map[string]any    `yaml:"source"`
	Version map[string]string `yaml:"version"`
}

// snippetSources parses a snippet file of either style.
func snippetSources(t *testing.T, path, style string) []snippetSource {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []snippetSource
	if style == "resource" {
		var doc struct {
			Resources []struct {
				Name          string `yaml:"name"`
				Type          string `yaml:"type"`
				snippetSource `yaml:",inline"`
			} `yaml:"resources"`
			Jobs []struct {
				Plan []map[string]any `yaml:"plan"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, b)
		}
		if len(doc.Resources) != 1 || len(doc.Jobs) != 1 || len(doc.Jobs[0].Plan) != 2 {
			t.Fatalf("%s: want one resource and a job with get and task:\n%s", path, b)
		}
		r, plan := doc.Resources[0], doc.Jobs[0].Plan
		if r.Type != "s3" || plan[0]["get"] != r.Name || plan[1]["image"] != r.Name ||
			plan[0]["params"].(map[string]any)["unpack"] != true {
			t.Errorf("%s: the job does not get %q with unpack: true and run a task on image: %[2]q:\n%s", path, r.Name, b)
		}
		return append(out, r.snippetSource)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			ImageResource struct {
				Type          string          `yaml:"type"`
				Params        map[string]bool `yaml:"params"`
				snippetSource `yaml:",inline"`
			} `yaml:"image_resource"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v\n%s", path, err, b)
		}
		if doc.ImageResource.Type != "s3" || !doc.ImageResource.Params["unpack"] {
			t.Errorf("%s: not an s3 image_resource with unpack: true:\n%s", path, b)
		}
		out = append(out, doc.ImageResource.snippetSource)
	}
	if len(out) != 1 {
		t.Fatalf("%s: want one image_resource:\n%s", path, b)
	}
	return out
}

// fetchLikeTheResource resolves the snippet's version as Concourse does
// with the S3 resource (a pinned path, else check's newest), gets that key
// and returns it.
func fetchLikeTheResource(t *testing.T, sn snippetSource, endpoint string, srv *miniotest.Server) string {
	t.Helper()
	vars := map[string]string{
		"((s3_endpoint))": endpoint, "((s3_access_key_id))": srv.AccessKey, "((s3_secret_access_key))": srv.SecretKey,
	}
	field := func(name string) string {
		s, _ := sn.Source[name].(string)
		if v, ok := vars[s]; ok {
			return v
		}
		return s
	}
	pathStyle, _ := sn.Source["use_path_style"].(bool)
	client := s3.New(s3.Options{
		Region:       cmp.Or(field("region_name"), "us-east-1"),
		BaseEndpoint: aws.String(field("endpoint")),
		UsePathStyle: pathStyle,
		Credentials:  credentials.NewStaticCredentialsProvider(field("access_key_id"), field("secret_access_key"), ""),
	})
	ctx := context.Background()
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(field("bucket"))})
	if err != nil {
		t.Fatalf("listing bucket %s as the S3 resource would: %v", field("bucket"), err)
	}
	levels, err := concourse.CompileLevels(field("regexp"))
	if err != nil {
		t.Fatal(err)
	}
	var matched []string
	versions := map[string]string{}
	for _, o := range list.Contents {
		if v, ok := levels.Match(aws.ToString(o.Key)); ok {
			matched = append(matched, aws.ToString(o.Key))
			versions[aws.ToString(o.Key)] = v
		}
	}
	if len(matched) == 0 {
		t.Fatalf("regexp %s matches nothing in %s", field("regexp"), field("bucket"))
	}
	// check without a version: the last of the versions in the resource's order
	slices.SortFunc(matched, func(a, b string) int {
		c, err := concourse.CompareVersions(versions[a], versions[b])
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	use := matched[len(matched)-1]
	if pinned := sn.Version["path"]; pinned != "" {
		if !slices.Contains(matched, pinned) {
			t.Fatalf("regexp %s matches %v; the pinned %s is not among them", field("regexp"), matched, pinned)
		}
		use = pinned
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(field("bucket")), Key: aws.String(use)})
	if err != nil {
		t.Fatalf("getting %s: %v", use, err)
	}
	defer obj.Body.Close()
	head := make([]byte, 2)
	if _, err := io.ReadFull(obj.Body, head); err != nil || head[0] != 0x1f || head[1] != 0x8b {
		t.Errorf("%s is not gzip: %x %v", use, head, err)
	}
	return use
}
