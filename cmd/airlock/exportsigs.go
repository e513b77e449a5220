package main

import (
	"os"
	"time"

	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
)

// signaturePolicy is export's upstream signature policy: the keys, trusted
// root and certificate identity each image must be signed with.
type signaturePolicy struct {
	defaults     []*provenance.Key
	byPath       map[string]*provenance.Key
	root         *provenance.TrustedRoot
	identity     provenance.IdentityPolicy // the flags' default, may be empty
	require      bool
	attestations bool
}

// loadSignaturePolicy loads every cosign key named by --verify-key and by
// verify= options and the trusted root, and checks the flags and the
// identity= and issuer= options fit together; nil when no image is
// checked.
func loadSignaturePolicy(o exportOptions, reqs []source.Request) (*signaturePolicy, error) {
	p := &signaturePolicy{byPath: map[string]*provenance.Key{}, require: o.requireSigs, attestations: o.carryAtts,
		identity: provenance.IdentityPolicy{SubjectRegexp: o.sigstore.identity, Issuer: o.sigstore.issuer}}
	var err error
	if p.defaults, err = loadCosignKeys(o.verifyKeys); err != nil {
		return nil, err
	}
	if p.root, err = o.sigstore.load(); err != nil {
		return nil, err
	}
	for _, r := range reqs {
		if err := p.checkIdentity(r); err != nil {
			return nil, err
		}
		if r.VerifyKey == "" {
			if o.requireSigs && len(p.defaults) == 0 && p.root == nil {
				return nil, usagef("%s: --require-signatures needs a key or a trusted root for %s; pass --verify-key KEY.pub, add verify=KEY.pub to its line, or pass --trusted-root", r.Where(), r.Ref)
			}
			continue
		}
		if _, ok := p.byPath[r.VerifyKey]; ok {
			continue
		}
		k, err := provenance.LoadKey(r.VerifyKey)
		if err != nil {
			return nil, withHint(err, r.Where()+" names this key with verify=; paths are relative to the list's folder")
		}
		p.byPath[r.VerifyKey] = k
	}
	if len(p.defaults) == 0 && len(p.byPath) == 0 && p.root == nil {
		if o.requireSigs || o.carrySigs || o.carryAtts {
			return nil, usagef("--require-signatures, --carry-signatures and --carry-attestations need cosign keys or a trusted root: pass --verify-key KEY.pub, verify=KEY.pub in the image list, or --trusted-root trusted_root.json")
		}
		return nil, nil
	}
	return p, nil
}

// checkIdentity checks the identity policy r gets: identity= and issuer=
// need a trusted root, and under a trusted root every image that does not
// name its own key needs a complete, compiling identity.
func (p *signaturePolicy) checkIdentity(r source.Request) error {
	if p.root == nil {
		if r.Identity != "" || r.Issuer != "" {
			return usagef("%s: identity= and issuer= need --trusted-root trusted_root.json, the certificate authorities to trust", r.Where())
		}
		return nil
	}
	if r.VerifyKey != "" && r.Identity == "" && r.Issuer == "" {
		return nil // key-based only
	}
	if err := p.identityFor(r).Check(); err != nil {
		return usagef("%s: %v; pass --certificate-identity-regexp and --certificate-oidc-issuer, or identity= and issuer= on its line", r.Where(), err)
	}
	return nil
}

func (p *signaturePolicy) identityFor(r source.Request) provenance.IdentityPolicy {
	id := p.identity
	if r.Identity != "" {
		id.SubjectRegexp = r.Identity
	}
	if r.Issuer != "" {
		id.Issuer = r.Issuer
	}
	return id
}

func (p *signaturePolicy) policyFor(t source.Target) provenance.Policy {
	r := t.Request
	pol := provenance.Policy{Keys: p.defaults, Require: p.require, Attestations: p.attestations}
	if k, ok := p.byPath[r.VerifyKey]; ok {
		pol.Keys = []*provenance.Key{k}
		if r.Identity == "" && r.Issuer == "" {
			return pol
		}
	}
	if p.root != nil {
		pol.Root, pol.Identities = p.root, []provenance.IdentityPolicy{p.identityFor(r)}
	}
	return pol
}

// verifier checks signatures through reg, the registry client the images
// were resolved with.
func (p *signaturePolicy) verifier(reg *source.Client) *provenance.Verifier {
	vopts := []provenance.Option{provenance.WithRemoteOptions(reg.RemoteOptions()...)}
	if os.Getenv("SOURCE_DATE_EPOCH") != "" {
		if t, err := sourceDateEpoch(); err == nil {
			vopts = append(vopts, provenance.WithClock(func() time.Time { return t }))
		}
	}
	return provenance.New(vopts...)
}
