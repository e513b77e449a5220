package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PullCause says why a pull failed, for callers that advise the user.
type PullCause int

// Causes of a PullError.
const (
	PullFailed       PullCause = iota // anything not listed below
	PullInterrupted                   // the context ended
	PullUntrustedTLS                  // the registry's certificate is not trusted
	PullPlainHTTP                     // the registry answered HTTPS with plain HTTP
	PullUnauthorized                  // 401: no or wrong credentials
	PullDenied                        // 403: the credentials may not pull this repository
	PullNotFound                      // 404: no such repository, tag or digest
	PullRateLimited                   // 429
	PullServerFailed                  // 5xx
	PullUnreachable                   // no answer: DNS, connection or network failure
)

// PullError is a registry failure for one reference, explained in plain
// words.
type PullError struct {
	Ref        string    // the reference as written
	Registry   string    // the registry's host[:port]
	Cause      PullCause // what went wrong
	StatusCode int       // the HTTP status, or 0 if there was no response
	Reason     string    // e.g. "not found (404)"
	Err        error     // the underlying error
}

func (e *PullError) Error() string { return "pulling " + e.Ref + ": " + e.Reason }
func (e *PullError) Unwrap() error { return e.Err }

// PullError explains err, a failure reaching t's registry for t (its
// manifests, layers or signatures), as Resolve explains its own.
func (t Target) PullError(err error) *PullError { return pullError(t, err) }

// pullError explains err, a failure fetching t from its registry.
func pullError(t Target, err error) *PullError {
	pe := &PullError{Ref: t.Request.Ref, Registry: t.Ref.Context().RegistryStr(), Err: err}
	var (
		te  *transport.Error
		cve *tls.CertificateVerificationError
		ue  *url.Error
		ne  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		pe.Cause, pe.Reason = PullInterrupted, "interrupted"
	case errors.As(err, &cve):
		// Checked first: for a loopback registry the plain-HTTP fallback
		// fails too, and its error says less.
		pe.Cause, pe.Reason = PullUntrustedTLS, fmt.Sprintf("untrusted TLS certificate (%v)", cve.Err)
	case errors.As(err, &te):
		pe.StatusCode = te.StatusCode
		pe.Cause, pe.Reason = statusCause(te.StatusCode)
	case errors.Is(err, http.ErrSchemeMismatch):
		pe.Cause, pe.Reason = PullPlainHTTP, pe.Registry+" speaks plain HTTP, not HTTPS"
	case errors.As(err, &ue):
		pe.Cause, pe.Reason = PullUnreachable, fmt.Sprintf("cannot reach %s (%v)", pe.Registry, ue.Err)
	case errors.As(err, &ne):
		pe.Cause, pe.Reason = PullUnreachable, fmt.Sprintf("cannot reach %s (%v)", pe.Registry, err)
	default:
		pe.Cause, pe.Reason = PullFailed, err.Error()
	}
	return pe
}

func statusCause(code int) (PullCause, string) {
	switch {
	case code == http.StatusUnauthorized:
		return PullUnauthorized, "unauthorized (401)"
	case code == http.StatusForbidden:
		return PullDenied, "access denied (403)"
	case code == http.StatusNotFound:
		return PullNotFound, "not found (404)"
	case code == http.StatusTooManyRequests:
		return PullRateLimited, "rate limited (429)"
	case code >= 500:
		return PullServerFailed, fmt.Sprintf("registry failed (%d %s)", code, http.StatusText(code))
	default:
		return PullFailed, fmt.Sprintf("unexpected response (%d %s)", code, http.StatusText(code))
	}
}
