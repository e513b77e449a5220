package bucket

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// defaultRegion is used when neither Config nor the environment names one;
// MinIO and Ceph accept any region, AWS needs the real one.
const defaultRegion = "us-east-1"

// Config says which bucket to use and how to reach it. Empty fields fall
// back to the AWS SDK's environment and shared config files.
type Config struct {
	Bucket   string
	Endpoint string // e.g. "http://127.0.0.1:9000"; else AWS_ENDPOINT_URL_S3, else AWS
	Region   string // else AWS_REGION / the profile; else us-east-1
	Profile  string // shared config profile; else AWS_PROFILE
	CABundle string // PEM file of CAs to trust for a TLS endpoint; else AWS_CA_BUNDLE

	// EC2Metadata lets the credential chain ask the EC2 instance metadata
	// service. Default: only when no Endpoint is given; with an endpoint
	// (MinIO, Ceph in a closed network) asking it means a timeout or a
	// request to an address nobody meant.
	EC2Metadata bool

	// PathStyle selects path-style addressing (http://host/bucket/key).
	// Default: on when an endpoint is given (MinIO needs it), off for AWS.
	PathStyle *bool
}

// Option tunes how Open builds the client.
type Option func(*openOptions)

type openOptions struct {
	creds       aws.CredentialsProvider
	maxAttempts int
	transport   func(http.RoundTripper) http.RoundTripper
	wrap        func(s3API) s3API // tests: swap in a failing client
}

// WithStaticCredentials uses the given access key pair instead of the
// standard credential chain.
func WithStaticCredentials(accessKey, secretKey string) Option {
	return func(o *openOptions) {
		o.creds = credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	}
}

// WithMaxAttempts sets how often a request is tried before giving up.
// Default: the SDK's (3 attempts, or AWS_MAX_ATTEMPTS).
func WithMaxAttempts(n int) Option {
	return func(o *openOptions) { o.maxAttempts = n }
}

// WithTransportWrapper routes every request through wrap(the client's
// transport), keeping the TLS settings (CABundle) of the client beneath;
// airlock uses it to cut off exchanges that stall.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *openOptions) { o.transport = wrap }
}

// Open builds a Store for cfg.Bucket. It reads configuration but sends no
// request; call Check before the first upload.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("opening bucket: no bucket name given")
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	awsCfg, region, err := loadAWSConfig(ctx, cfg, o)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", cfg.Bucket, err)
	}
	client := s3.NewFromConfig(awsCfg, func(so *s3.Options) {
		if cfg.Endpoint != "" {
			so.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		so.UsePathStyle = pathStyle(cfg.PathStyle, so.BaseEndpoint)
		so.APIOptions = append(so.APIOptions, unsignedPayload)
	})
	var api s3API = client
	if o.wrap != nil {
		api = o.wrap(api)
	}
	return &Store{
		api:         api,
		bucket:      cfg.Bucket,
		endpoint:    endpointName(client.Options()),
		creds:       awsCfg.Credentials,
		checksum:    awsCfg.RequestChecksumCalculation,
		region:      region,
		path:        client.Options().UsePathStyle,
		signRegion:  awsCfg.Region,
		credSources: newCredSources(cfg, o, useIMDS(cfg)),
	}, nil
}

// loadAWSConfig also returns the region configured, empty when none was.
func loadAWSConfig(ctx context.Context, cfg Config, o openOptions) (aws.Config, string, error) {
	load := []func(*config.LoadOptions) error{
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// airlock reports failures itself; no SDK log lines on stderr.
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
	}
	if !useIMDS(cfg) {
		load = append(load, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if cfg.Region != "" {
		load = append(load, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.CABundle != "" {
		pem, err := os.ReadFile(cfg.CABundle)
		if err != nil {
			return aws.Config{}, "", fmt.Errorf("reading ca bundle: %w", err)
		}
		load = append(load, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	if o.creds != nil {
		load = append(load, config.WithCredentialsProvider(o.creds))
	}
	if o.maxAttempts > 0 {
		load = append(load, config.WithRetryMaxAttempts(o.maxAttempts))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, "", err
	}
	region := awsCfg.Region
	if awsCfg.Region == "" {
		awsCfg.Region = defaultRegion
	}
	if o.transport != nil {
		base := awsCfg.HTTPClient
		if base == nil { // what the S3 client would use
			base = awshttp.NewBuildableClient()
		}
		awsCfg.HTTPClient = doer{o.transport(roundTripper{base})}
	}
	return awsCfg, region, nil
}

// useIMDS tells whether the credential chain may ask the EC2 instance
// metadata service: when asked to, or when no endpoint is given (AWS).
func useIMDS(cfg Config) bool { return cfg.EC2Metadata || cfg.Endpoint == "" }

func pathStyle(set *bool, endpoint *string) bool {
	if set != nil {
		return *set
	}
	return aws.ToString(endpoint) != ""
}

// endpointName names where requests go, for error messages.
func endpointName(o s3.Options) string {
	if e := aws.ToString(o.BaseEndpoint); e != "" {
		return e
	}
	return fmt.Sprintf("https://s3.%s.amazonaws.com", o.Region)
}

// checksumMiddlewareID is the SDK's request checksum step.
const checksumMiddlewareID = "AWSChecksum:ComputeInputPayloadChecksum"

// unsignedPayload makes requests carry UNSIGNED-PAYLOAD instead of the
// SHA-256 of their body, which SigV4 computes over plain HTTP: airlock
// verifies every object's SHA-256 itself and the SDK still sends a CRC32
// per request, so the extra hashing pass (a third of import's CPU) buys
// nothing. It must run before the checksum step, which would otherwise
// compute the SHA-256 on its way.
func unsignedPayload(stack *middleware.Stack) error {
	unsigned := &v4.UnsignedPayload{}
	if _, ok := stack.Finalize.Get(checksumMiddlewareID); !ok {
		return v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware(stack)
	}
	if _, err := stack.Finalize.Remove(unsigned.ID()); err != nil {
		return err
	}
	return stack.Finalize.Insert(unsigned, checksumMiddlewareID, middleware.Before)
}

// roundTripper and doer convert between the SDK's HTTP client and an
// http.RoundTripper.
type roundTripper struct{ c aws.HTTPClient }

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return r.c.Do(req) }

type doer struct{ rt http.RoundTripper }

func (d doer) Do(req *http.Request) (*http.Response, error) { return d.rt.RoundTrip(req) }
