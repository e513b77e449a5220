package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PullError is a registry failure for one reference, explained in plain
// words.
type PullError struct {
	Ref        string // the reference as written
	StatusCode int    // the HTTP status, or 0 if there was no response
	Reason     string // e.g. "not found (404); check the name and tag"
	Err        error  // the underlying error
}

func (e *PullError) Error() string { return "pulling " + e.Ref + ": " + e.Reason }

func (e *PullError) Unwrap() error { return e.Err }

// pullError explains err, a failure fetching t from its registry.
func pullError(t Target, err error) *PullError {
	pe := &PullError{Ref: t.Request.Ref, Err: err}
	reg := t.Ref.Context().RegistryStr()
	var (
		te  *transport.Error
		cve *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		pe.Reason = "interrupted"
	case errors.As(err, &cve):
		// Checked first: for a loopback registry the plain-HTTP fallback
		// fails too, and its error says less.
		pe.Reason = fmt.Sprintf("untrusted TLS certificate (%v); trust its CA, or use --insecure for a self-signed registry", cve.Err)
	case errors.As(err, &te):
		pe.StatusCode = te.StatusCode
		pe.Reason = statusReason(te.StatusCode, reg)
	default:
		pe.Reason = networkReason(err, reg)
	}
	return pe
}

func statusReason(code int, reg string) string {
	switch {
	case code == http.StatusUnauthorized:
		return fmt.Sprintf("unauthorized (401); log in with \"docker login %s\" or check your credentials", reg)
	case code == http.StatusForbidden:
		return "access denied (403); the credentials in use may not pull this repository"
	case code == http.StatusNotFound:
		return "not found (404); check the name and tag"
	case code == http.StatusTooManyRequests:
		return "rate limited (429); retry later or log in to raise the limit"
	case code >= 500:
		return fmt.Sprintf("registry failed (%d %s); retry later", code, http.StatusText(code))
	default:
		return fmt.Sprintf("unexpected response (%d %s)", code, http.StatusText(code))
	}
}

func networkReason(err error, reg string) string {
	var (
		ue *url.Error
		ne net.Error
	)
	switch {
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s speaks plain HTTP; use --insecure", reg)
	case errors.As(err, &ue):
		return fmt.Sprintf("cannot reach %s (%v); check the registry address and the network", reg, ue.Err)
	case errors.As(err, &ne):
		return fmt.Sprintf("cannot reach %s (%v); check the registry address and the network", reg, err)
	default:
		return err.Error()
	}
}
