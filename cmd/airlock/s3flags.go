package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/stall"
	"github.com/airlockhq/airlock/inventory"
)

// s3Flags are the bucket connection flags shared by import and audit.
type s3Flags struct {
	bucket, endpoint, region, profile, caBundle, prefix string
	ec2Metadata                                         bool
	pathStyle                                           optionalBool
	stall                                               time.Duration
}

func (f *s3Flags) add(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.bucket, "bucket", "", "S3 bucket (required)")
	fs.StringVar(&f.endpoint, "endpoint", "", "S3 endpoint URL, e.g. https://minio.internal:9000 (default: AWS_ENDPOINT_URL_S3, else AWS)")
	fs.StringVar(&f.region, "region", "", "S3 region (default: AWS_REGION or the profile's, else us-east-1)")
	fs.StringVar(&f.profile, "profile", "", "shared AWS config profile for credentials")
	fs.StringVar(&f.caBundle, "ca-bundle", "", "PEM file of CAs to trust for the endpoint's TLS certificate")
	fs.StringVar(&f.prefix, "prefix", "", "key prefix in the bucket, e.g. concourse/")
	fs.Var(&f.pathStyle, "path-style", "path-style addressing (default: on when an endpoint is given)")
	fs.DurationVar(&f.stall, "stall-timeout", stall.DefaultInterval, "give up on (and retry) an S3 request after this long without a byte moving; 0 waits for ever")
	fs.BoolVar(&f.ec2Metadata, "ec2-metadata", false, "with --endpoint, still ask the EC2 instance metadata service for credentials (also AWS_EC2_METADATA_DISABLED=false)")
}

func (f *s3Flags) open(ctx context.Context) (*bucket.Store, error) {
	if f.bucket == "" {
		return nil, usagef("no bucket given; pass --bucket NAME")
	}
	if f.endpoint != "" && !strings.Contains(f.endpoint, "://") {
		return nil, usagef("endpoint %q needs a scheme, e.g. http://%s", f.endpoint, f.endpoint)
	}
	if f.prefix != "" && !strings.HasSuffix(f.prefix, "/") {
		f.prefix += "/"
	}
	// The prefix is part of every key written and read: the same checks
	// as a key's levels, before anything reaches the bucket.
	if err := inventory.CheckPrefix(f.prefix); err != nil {
		return nil, usageError{withHint(err, "pass --prefix as key levels of letters, digits and ._+- ending in /, none starting with . (e.g. --prefix concourse/)")}
	}
	cfg := bucket.Config{Bucket: f.bucket, Endpoint: f.endpoint, Region: f.region, Profile: f.profile, CABundle: f.caBundle,
		EC2Metadata: f.ec2Metadata || strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "false")}
	cfg.PathStyle = f.pathStyle.ptr()
	store, err := bucket.Open(ctx, cfg, bucket.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
		return stall.Transport(rt, f.stall)
	}))
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return store, nil
}

// s3Hint says what to do about missing credentials or a wrong region.
func s3Hint(err error) error {
	var ce *bucket.CredentialsError
	var wr *bucket.WrongRegionError
	switch {
	case errors.As(err, &ce):
		hint := "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME (or set AWS_PROFILE) for a profile in the shared files"
		if !ce.EC2Metadata {
			hint += "; on an EC2 instance, pass --ec2-metadata to use its role"
		}
		return withHint(err, hint)
	case errors.As(err, &wr) && wr.Expected != "":
		return withHint(err, fmt.Sprintf("pass --region %s (or set AWS_REGION=%[1]s)", wr.Expected))
	case errors.As(err, &wr):
		return withHint(err, "pass the server's region with --region (or AWS_REGION)")
	}
	return err
}
