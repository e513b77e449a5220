package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/stall"
)

// s3Flags are the bucket connection flags shared by import and audit.
type s3Flags struct {
	bucket, endpoint, region, profile, caBundle, prefix string
	pathStyle                                           bool
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
	fs.BoolVar(&f.pathStyle, "path-style", false, "path-style addressing (default: on when an endpoint is given)")
	fs.DurationVar(&f.stall, "stall-timeout", stall.DefaultInterval, "give up on (and retry) an S3 request after this long without a byte moving; 0 waits for ever")
}

func (f *s3Flags) open(ctx context.Context, c *cobra.Command) (*bucket.Store, error) {
	if f.bucket == "" {
		return nil, usagef("no bucket given; pass --bucket NAME")
	}
	if f.endpoint != "" && !strings.Contains(f.endpoint, "://") {
		return nil, usagef("endpoint %q needs a scheme, e.g. http://%s", f.endpoint, f.endpoint)
	}
	if f.prefix != "" && !strings.HasSuffix(f.prefix, "/") {
		f.prefix += "/"
	}
	cfg := bucket.Config{Bucket: f.bucket, Endpoint: f.endpoint, Region: f.region, Profile: f.profile, CABundle: f.caBundle}
	if c.Flags().Changed("path-style") {
		cfg.PathStyle = &f.pathStyle
	}
	store, err := bucket.Open(ctx, cfg, bucket.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
		return stall.Transport(rt, f.stall)
	}))
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return store, nil
}
