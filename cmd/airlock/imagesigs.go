package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
)

func loadCosignKeys(paths []string) ([]*provenance.Key, error) {
	var ks []*provenance.Key
	for _, p := range paths {
		k, err := provenance.LoadKey(p)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// sigstoreFlags are the flags of certificate-based (keyless) signatures,
// shared by export and verify.
type sigstoreFlags struct {
	root, identity, issuer string
}

func (f *sigstoreFlags) add(c *cobra.Command, what string) {
	fl := c.Flags()
	fl.StringVar(&f.root, "trusted-root", "", "sigstore trusted_root.json whose certificate authorities "+what+" certificate-based (keyless) signatures in sigstore bundles")
	fl.StringVar(&f.identity, "certificate-identity-regexp", "", "with --trusted-root: regexp the signing certificate's identity (URI or e-mail SAN) must match")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "with --trusted-root: the OIDC issuer the signing certificate must name, e.g. https://token.actions.githubusercontent.com")
}

// load reads the trusted root (nil without --trusted-root) and checks the
// identity flags fit: both or neither, and only with a trusted root.
func (f *sigstoreFlags) load() (*provenance.TrustedRoot, error) {
	if f.root == "" {
		if f.identity != "" || f.issuer != "" {
			return nil, usagef("--certificate-identity-regexp and --certificate-oidc-issuer need --trusted-root trusted_root.json")
		}
		return nil, nil
	}
	if (f.identity == "") != (f.issuer == "") {
		return nil, usagef("pass both --certificate-identity-regexp and --certificate-oidc-issuer, or neither")
	}
	if f.identity != "" {
		if err := (provenance.IdentityPolicy{SubjectRegexp: f.identity, Issuer: f.issuer}).Check(); err != nil {
			return nil, usagef("--certificate-identity-regexp: %v", err)
		}
	}
	return provenance.LoadTrustedRoot(f.root)
}

// identities is the identity policy the flags give, or none.
func (f *sigstoreFlags) identities() []provenance.IdentityPolicy {
	if f.identity == "" {
		return nil
	}
	return []provenance.IdentityPolicy{{SubjectRegexp: f.identity, Issuer: f.issuer}}
}

// carriedEvidence collects the carried signature blobs while a bundle is
// verified, when --image-signatures or --trusted-root asks for a re-check
// (nil Carried: off).
type carriedEvidence struct{ c *provenance.Carried }

func newCarriedEvidence(on bool) *carriedEvidence {
	if !on {
		return &carriedEvidence{}
	}
	return &carriedEvidence{c: provenance.NewCarried()}
}

func (ev *carriedEvidence) copy(e *manifest.Entry) io.Writer {
	if ev.c == nil {
		return nil
	}
	return ev.c.Writer(e)
}

// check re-checks every image's carried signature and attestations
// (provenance.Carried.Check) and returns what verify prints.
func (ev *carriedEvidence) check(ctx context.Context, m *manifest.Manifest, p provenance.Policy) ([]imageSignature, error) {
	checks, err := ev.c.Check(ctx, m, p)
	if err != nil {
		return nil, err
	}
	out := make([]imageSignature, len(checks))
	for i, c := range checks {
		out[i] = imageSignature{Key: c.Key, Source: c.Source, SignedDigest: c.SignedDigest, Keys: c.Keys, Identities: c.Identities, Attestations: c.Attestations}
		if out[i].Keys == nil {
			out[i].Keys = []string{}
		}
	}
	return out, nil
}
