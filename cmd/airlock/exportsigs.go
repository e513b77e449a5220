package main

import (
	"os"
	"time"

	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
)

// signaturePolicy is export's upstream signature policy: the keys each
// image must be signed with.
type signaturePolicy struct {
	defaults []*provenance.Key
	byPath   map[string]*provenance.Key
	require  bool
}

// loadSignaturePolicy loads every cosign key named by --verify-key and by
// verify= options, and checks the flags fit together; nil when no image is
// checked.
func loadSignaturePolicy(o exportOptions, reqs []source.Request) (*signaturePolicy, error) {
	p := &signaturePolicy{byPath: map[string]*provenance.Key{}, require: o.requireSigs}
	for _, path := range o.verifyKeys {
		k, err := provenance.LoadKey(path)
		if err != nil {
			return nil, err
		}
		p.defaults = append(p.defaults, k)
	}
	for _, r := range reqs {
		if r.VerifyKey == "" {
			if o.requireSigs && len(p.defaults) == 0 {
				return nil, usagef("%s: --require-signatures needs a key for %s; pass --verify-key KEY.pub or add verify=KEY.pub to its line", r.Where(), r.Ref)
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
	if len(p.defaults) == 0 && len(p.byPath) == 0 {
		if o.requireSigs || o.carrySigs {
			return nil, usagef("--require-signatures and --carry-signatures need cosign keys: pass --verify-key KEY.pub or verify=KEY.pub in the image list")
		}
		return nil, nil
	}
	return p, nil
}

func (p *signaturePolicy) policyFor(t source.Target) provenance.Policy {
	if k, ok := p.byPath[t.Request.VerifyKey]; ok {
		return provenance.Policy{Keys: []*provenance.Key{k}, Require: p.require}
	}
	return provenance.Policy{Keys: p.defaults, Require: p.require}
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
