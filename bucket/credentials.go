package bucket

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
)

// credSources says where the credential chain looked.
type credSources struct {
	static      bool // credentials were given to Open
	profile     string
	files       []string
	ec2Metadata bool
}

func newCredSources(cfg Config, o openOptions, imds bool) credSources {
	return credSources{
		static:  o.creds != nil,
		profile: cmp.Or(cfg.Profile, os.Getenv("AWS_PROFILE"), "default"),
		files: []string{
			cmp.Or(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), config.DefaultSharedCredentialsFilename()),
			cmp.Or(os.Getenv("AWS_CONFIG_FILE"), config.DefaultSharedConfigFilename()),
		},
		ec2Metadata: imds,
	}
}

// CredentialsError says that no credentials were found, and where the
// credential chain looked. errors.Is(err, ErrCredentials) holds.
type CredentialsError struct {
	Bucket      string
	Profile     string   // the shared config profile looked up
	Files       []string // the shared credentials and config files
	EC2Metadata bool     // whether the EC2 instance metadata service was asked
	Err         error    // the SDK's answer
}

func (e *CredentialsError) Error() string {
	sources := []string{
		"the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
		fmt.Sprintf("profile %q (AWS_PROFILE) in %s", e.Profile, strings.Join(e.Files, " and ")),
	}
	if e.EC2Metadata {
		sources = append(sources, "the EC2 instance metadata service")
	} else {
		sources = append(sources, "not the EC2 instance metadata service (not enabled for an endpoint)")
	}
	return fmt.Sprintf("no S3 credentials found for bucket %s; looked in %s", e.Bucket, strings.Join(sources, ", "))
}

func (e *CredentialsError) Unwrap() []error { return []error{ErrCredentials, e.Err} }
