package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/airlockhq/airlock/internal/imagetest"
	"github.com/airlockhq/airlock/internal/miniotest"
)

// TestS3Scripts runs the scripts that import into and audit a real MinIO
// (a missing MinIO skips them, or fails them under CI=true).
func TestS3Scripts(t *testing.T) {
	srv := miniotest.Start(t)
	regional := miniotest.StartWithEnv(t, "MINIO_SITE_REGION=eu-west-3") // for the wrong-region scripts
	reg := imagetest.Registry(t)
	pushScriptImages(t, reg)
	client := srv.Client()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/s3",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg)
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("ENDPOINT", srv.Endpoint)
			env.Setenv("REGIONAL_ENDPOINT", regional.Endpoint)
			env.Setenv("REGIONAL_SECRET", regional.SecretKey)
			env.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
			env.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
			env.Setenv("AWS_REGION", "us-east-1")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return setupScript(env)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitCode,
			"mkbundle":  cmdMkbundle,
			"mksigned":  cmdMkSigned,
			"flipentry": cmdFlipEntry,
			"flipbyte":  cmdFlipByte,
			"pushimage": cmdPushImage,
			"mkbucket": func(ts *testscript.TestScript, neg bool, args []string) {
				_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(args[0])})
				ts.Check(err)
			},
			"s3ls":    s3ls(client),
			"s3put":   s3put(client),
			"s3forge": s3forge(client),
			// s3mpu BUCKET KEY starts a multipart upload and leaves it.
			"s3mpu": func(ts *testscript.TestScript, neg bool, args []string) {
				_, err := client.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String(args[0]), Key: aws.String(args[1])})
				ts.Check(err)
			},
			"slowendpoint": slowEndpoint(srv.Endpoint),
			"s3rm": func(ts *testscript.TestScript, neg bool, args []string) {
				_, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(args[0]), Key: aws.String(args[1])})
				ts.Check(err)
			},
		},
	})
}

// slowEndpoint returns the command "slowendpoint DELAY": it starts a
// reverse proxy to the MinIO at endpoint that holds each request for
// DELAY before passing it on, and sets SLOW_ENDPOINT to it, so that an
// import through it is still uploading when a script interrupts it,
// however fast the machine.
func slowEndpoint(endpoint string) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: slowendpoint DELAY")
		}
		delay, err := time.ParseDuration(args[0])
		ts.Check(err)
		target, err := url.Parse(endpoint)
		ts.Check(err)
		proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // what the client signed (SigV4 covers Host)
		}}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(delay):
				proxy.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		}))
		ts.Defer(srv.Close)
		ts.Setenv("SLOW_ENDPOINT", srv.URL)
	}
}

// s3ls BUCKET prints every key with its size and recorded sha256.
func s3ls(client *s3.Client) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		w := ts.Stdout() // now: an empty bucket must empty stdout too
		out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(args[0])})
		ts.Check(err)
		var lines []string
		for _, o := range out.Contents {
			head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(args[0]), Key: o.Key})
			ts.Check(err)
			lines = append(lines, fmt.Sprintf("%s %d %s %s\n", *o.Key, *o.Size, head.Metadata["sha256"], aws.ToString(head.ContentType)))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprint(w, l)
		}
	}
}

// s3put BUCKET KEY FILE [SHA256] uploads behind airlock's back, recording
// SHA256 as the object's checksum when given.
func s3put(client *s3.Client) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		b, err := os.ReadFile(ts.MkAbs(args[2]))
		ts.Check(err)
		in := &s3.PutObjectInput{Bucket: aws.String(args[0]), Key: aws.String(args[1]), Body: bytes.NewReader(b)}
		if len(args) > 3 {
			in.Metadata = map[string]string{"sha256": args[3]}
		}
		_, err = client.PutObject(context.Background(), in)
		ts.Check(err)
	}
}

// s3forge BUCKET KEY FILE replaces an object's content with FILE's, keeping
// its size-independent recorded sha256: a change only a deep audit finds.
func s3forge(client *s3.Client) func(*testscript.TestScript, bool, []string) {
	put := s3put(client)
	return func(ts *testscript.TestScript, neg bool, args []string) {
		head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(args[0]), Key: aws.String(args[1])})
		ts.Check(err)
		b, err := os.ReadFile(ts.MkAbs(args[2]))
		ts.Check(err)
		// Pad or cut the file to the object's size so only the content differs.
		b = append(b, make([]byte, max(0, int(*head.ContentLength)-len(b)))...)[:*head.ContentLength]
		forged := ts.MkAbs(args[2] + ".forged")
		ts.Check(os.WriteFile(forged, b, 0o644))
		put(ts, neg, []string{args[0], args[1], forged, head.Metadata["sha256"]})
	}
}
