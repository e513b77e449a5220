package source

import (
	"fmt"
	"strings"
)

// Request is one image the user asked to export, as written in an image
// list or on the command line.
type Request struct {
	// Ref is the image reference as written, e.g. "docker.io/library/ubuntu:22.04".
	Ref string
	// AsName is NAME from "as NAME:VERSION"; empty when not overridden.
	AsName string
	// AsVersion is VERSION from "as NAME:VERSION"; empty when not overridden.
	AsVersion string
	// VerifyKey is PATH from "verify=PATH": the cosign public key the
	// image's signature must verify with, as written.
	VerifyKey string
	// Identity and Issuer are REGEXP from "identity=REGEXP" and URL from
	// "issuer=URL": the identity policy of the image's certificate-based
	// signatures, overriding export's --certificate-identity-regexp and
	// --certificate-oidc-issuer.
	Identity, Issuer string
	// Lint is the policy from "lint=POLICY" for this image's lint
	// findings; empty when the line does not set one.
	Lint LintPolicy
	// File is the list file the request came from; empty for arguments.
	File string
	// Line is the 1-based line in File, or the 1-based argument position.
	Line int
}

// Where says where the request was written: "images.txt:3" or "argument 2".
func (r Request) Where() string {
	if r.File == "" {
		return fmt.Sprintf("argument %d", r.Line)
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// String formats the request in list syntax ("REF", "REF as NAME" or
// "REF as NAME:VERSION"); ParseList reads it back unchanged.
func (r Request) String() string {
	s := r.Ref
	switch {
	case r.AsName == "" && r.AsVersion == "":
	case r.AsVersion == "":
		s += " as " + r.AsName
	default:
		s += " as " + r.AsName + ":" + r.AsVersion
	}
	if r.VerifyKey != "" {
		s += " " + verifyOption + r.VerifyKey
	}
	if r.Identity != "" {
		s += " " + identityOption + r.Identity
	}
	if r.Issuer != "" {
		s += " " + issuerOption + r.Issuer
	}
	if r.Lint != "" {
		s += " " + lintOption + string(r.Lint)
	}
	return s
}

// LintPolicy says what export does with an image's lint findings.
type LintPolicy string

// The lint policies.
const (
	LintError LintPolicy = "error" // a warning refuses the image before any bundle is written
	LintWarn  LintPolicy = "warn"  // findings are shown and recorded (export's default)
	LintOff   LintPolicy = "off"   // findings are neither shown nor recorded
)

// ParseLintPolicy returns the policy named s: error, warn or off.
func ParseLintPolicy(s string) (LintPolicy, error) {
	switch p := LintPolicy(s); p {
	case LintError, LintWarn, LintOff:
		return p, nil
	}
	return "", fmt.Errorf("lint policy %q: want error, warn or off", s)
}

// The per-image options: lintOption "lint=POLICY", verifyOption
// "verify=PATH", identityOption "identity=REGEXP" and issuerOption
// "issuer=URL".
const (
	lintOption     = "lint="
	verifyOption   = "verify="
	identityOption = "identity="
	issuerOption   = "issuer="
)

// parseSpec parses the fields of one request: REF, REF as NAME, or
// REF as NAME:VERSION, each optionally followed by verify=PATH,
// identity=REGEXP, issuer=URL and lint=POLICY, in any order, each at most
// once. It checks the shape only; Check validates content.
func parseSpec(fields []string) (Request, error) {
	var req Request
	var lint string
	opts := []struct {
		prefix, value, want string
		v                   *string
	}{
		{lintOption, "", "", &lint},
		{verifyOption, "PATH", "naming a cosign public key", &req.VerifyKey},
		{identityOption, "REGEXP", "that the certificate's identity must match", &req.Identity},
		{issuerOption, "URL", "of the certificate's OIDC issuer", &req.Issuer},
	}
	seen := map[string]bool{}
	for len(fields) > 1 {
		last := fields[len(fields)-1]
		matched := false
		for _, o := range opts {
			v, ok := strings.CutPrefix(last, o.prefix)
			if !ok || seen[o.prefix] {
				continue
			}
			if v == "" && o.value != "" {
				return Request{}, fmt.Errorf(`empty %s in %q; want "%s%s" %s`, o.value, last, o.prefix, o.value, o.want)
			}
			seen[o.prefix], *o.v, matched = true, v, true
		}
		if !matched {
			break
		}
		fields = fields[:len(fields)-1]
	}
	if lint != "" || seen[lintOption] {
		p, err := ParseLintPolicy(lint)
		if err != nil {
			return Request{}, err
		}
		req.Lint = p
	}
	if len(fields) == 1 {
		for _, o := range opts {
			if strings.HasPrefix(fields[0], o.prefix) {
				return Request{}, fmt.Errorf(`%q needs an image reference before it`, fields[0])
			}
		}
	}
	shape, err := parseShape(fields)
	shape.VerifyKey, shape.Identity, shape.Issuer, shape.Lint = req.VerifyKey, req.Identity, req.Issuer, req.Lint
	return shape, err
}

func parseShape(fields []string) (Request, error) {
	switch {
	case len(fields) == 1:
		return Request{Ref: fields[0]}, nil
	case len(fields) == 3 && fields[1] == "as":
		return parseOverride(fields[0], fields[2])
	case len(fields) > 1 && fields[1] == "as":
		return Request{}, fmt.Errorf(`want "REF as NAME:VERSION", got %q`, strings.Join(fields, " "))
	default:
		return Request{}, fmt.Errorf(`unexpected %q after %s; want "REF" or "REF as NAME:VERSION"`, fields[1], fields[0])
	}
}

func parseOverride(ref, spec string) (Request, error) {
	n, v, hasVersion := strings.Cut(spec, ":")
	if n == "" {
		return Request{}, fmt.Errorf(`empty NAME in "as %s"; want "as NAME:VERSION"`, spec)
	}
	if hasVersion && v == "" {
		return Request{}, fmt.Errorf(`empty VERSION in "as %s"; want "as NAME:VERSION"`, spec)
	}
	return Request{Ref: ref, AsName: n, AsVersion: v}, nil
}
