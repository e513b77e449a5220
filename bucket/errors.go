package bucket

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kinds of failure, for errors.Is on an *Error.
var (
	ErrNoSuchBucket = errors.New("bucket does not exist")
	ErrNotFound     = errors.New("object does not exist")
	ErrCredentials  = errors.New("credentials rejected or missing")
	ErrAccessDenied = errors.New("access denied")
	ErrUnreachable  = errors.New("endpoint unreachable")
	ErrTLS          = errors.New("tls certificate not trusted (set the ca bundle)")
	// ErrPrecondition: a conditional write found the object changed since
	// it was looked at (If-None-Match or If-Match failed: 412, or 409
	// ConditionalRequestConflict). Someone else wrote the key meanwhile.
	ErrPrecondition = errors.New("the object changed meanwhile (conditional write refused)")
	// ErrUploadGone: the multipart upload was aborted by someone else
	// (another import of the key, or a lifecycle rule) while it ran.
	ErrUploadGone = errors.New("the multipart upload was aborted meanwhile")
	// ErrWrongRegion: requests were signed for another region than the
	// server's; the Kind is then a *WrongRegionError naming both.
	ErrWrongRegion = errors.New("wrong region")
)

// WrongRegionError is the Kind of an *Error whose requests were signed for
// a region the server does not serve (S3's AuthorizationHeaderMalformed).
type WrongRegionError struct {
	Used     string // the region the requests were signed for
	Expected string // the region the server named; "" when it did not say
}

func (e *WrongRegionError) Error() string {
	if e.Expected == "" {
		return fmt.Sprintf("the server does not accept region %s", e.Used)
	}
	return fmt.Sprintf("the server expects region %s, not %s", e.Expected, e.Used)
}

// Is makes errors.Is(err, ErrWrongRegion) true.
func (e *WrongRegionError) Is(target error) bool { return target == ErrWrongRegion }

// expectingRE finds the region in S3's "... the region 'X' is wrong; expecting 'Y'".
var expectingRE = regexp.MustCompile(`expecting '([^']+)'`)

// Error is a failed S3 operation. It names the bucket, the endpoint and,
// for object operations, the key. errors.Is(err, ErrNoSuchBucket) and the
// other kinds tell what went wrong.
type Error struct {
	Op       string // "check", "stat", "put", "get", "list", "list uploads", "abort"
	Bucket   string
	Key      string // empty for bucket-level operations
	Endpoint string
	Kind     error // one of the Err* kinds, or nil when unclassified
	Err      error // the underlying cause
}

// opVerbs words each Op for messages.
var opVerbs = map[string]string{
	"check": "checking", "stat": "inspecting", "put": "uploading", "get": "downloading",
	"list": "listing", "list uploads": "listing uploads of", "abort": "aborting upload of",
}

func (e *Error) Error() string {
	verb, ok := opVerbs[e.Op]
	if !ok {
		verb = e.Op
	}
	where := "bucket " + e.Bucket
	if e.Key != "" {
		where = e.Key + " in " + where
	}
	msg := fmt.Sprintf("%s %s at %s", verb, where, e.Endpoint)
	if e.Kind != nil {
		msg += ": " + e.Kind.Error()
	}
	return msg + ": " + cause(e.Err)
}

func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// cause shortens SDK errors to what a person needs: the status and code
// of an S3 answer, or the network error when there was no answer.
func cause(err error) string {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	switch {
	case errors.As(err, &resp) && errors.As(err, &api):
		return fmt.Sprintf("%d %s", resp.HTTPStatusCode(), api.ErrorCode())
	case errors.As(err, &api):
		return api.ErrorCode()
	}
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) || send.Err == nil {
		return err.Error()
	}
	var u *url.Error // its text repeats the whole request URL
	if errors.As(send.Err, &u) {
		return u.Err.Error()
	}
	return send.Err.Error()
}

// kind classifies an SDK error. A 404 means a missing bucket for bucket
// operations and a missing object otherwise.
func kind(err error, bucketOp bool, region string) error {
	if k := kindOfSendError(err); k != nil {
		return k
	}
	switch code, status := apiCode(err); {
	case code == "NoSuchBucket":
		return ErrNoSuchBucket
	case code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException":
		var api smithy.APIError
		w := &WrongRegionError{Used: region}
		if errors.As(err, &api) {
			if m := expectingRE.FindStringSubmatch(api.ErrorMessage()); m != nil {
				w.Expected = m[1]
			}
		}
		return w
	case code == "PreconditionFailed" || code == "ConditionalRequestConflict" ||
		status == http.StatusPreconditionFailed || status == http.StatusConflict:
		return ErrPrecondition
	case code == "NoSuchUpload":
		return ErrUploadGone
	case code == "NoSuchKey" || (status == http.StatusNotFound && !bucketOp):
		return ErrNotFound
	case status == http.StatusNotFound:
		return ErrNoSuchBucket
	case isCredentialCode(code):
		return ErrCredentials
	case code == "AccessDenied" || status == http.StatusForbidden:
		return ErrAccessDenied
	}
	return nil
}

func kindOfSendError(err error) error {
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		return nil
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return ErrTLS
	}
	return ErrUnreachable
}

func apiCode(err error) (code string, status int) {
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	return code, status
}

func isCredentialCode(code string) bool {
	switch code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
		"ExpiredToken", "TokenRefreshRequired", "InvalidSecurity":
		return true
	}
	return false
}
