package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/provenance"
	"github.com/airlockhq/airlock/source"
)

// WithSignatureCheck checks the upstream cosign signatures of every target
// with v, under the policy policyFor gives it, before anything is
// converted; the first refusal (a *provenance.Error) stops the export
// before any bundle is written. The outcome is recorded in each image's
// manifest entry.
func WithSignatureCheck(v *provenance.Verifier, policyFor func(source.Target) provenance.Policy) Option {
	return func(o *options) { o.verifier, o.policyFor = v, policyFor }
}

// WithCarrySignatures adds the evidence of every verified signature (image
// manifest and config, signed index, signature manifest and payloads,
// sigstore bundles and their referrer manifests, and the attestations the
// policy asked for) to
// the bundle as content-addressed entries under manifest.SignaturePrefix,
// so that it can be re-checked offline.
func WithCarrySignatures(carry bool) Option { return func(o *options) { o.carry = carry } }

// checkSignatures checks every target's signatures, up to o.jobs at a time;
// the first failure cancels the rest. evidence[i] is nil for targets
// without a policy.
func checkSignatures(ctx context.Context, targets []source.Target, o *options, emit func(Event)) ([]*provenance.Evidence, error) {
	evidence := make([]*provenance.Evidence, len(targets))
	if o.verifier == nil {
		return evidence, nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for i, t := range targets {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			ev, err := o.verifier.Check(ctx, subject(t), o.policyFor(t))
			var fe *provenance.FetchError
			if errors.As(err, &fe) {
				fe.Err = t.PullError(fe.Err) // explained as a failed pull is
			}
			if err != nil {
				return err
			}
			evidence[i] = ev
			if ev != nil {
				emit(signatureEvent(t, ev))
				for _, n := range ev.Notes {
					emit(Event{Kind: Warned, Key: t.Key, Source: t.Request.Ref, Digest: ev.Record.SignedDigest, Message: t.Request.Ref + ": " + n})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return evidence, nil
}

func subject(t source.Target) provenance.Subject {
	return provenance.Subject{Source: t.Request.Ref, Repo: t.Ref.Context(), Digest: t.Digest, IndexDigest: t.IndexDigest, Image: t.Image}
}

func signatureEvent(t source.Target, ev *provenance.Evidence) Event {
	r := ev.Record
	e := Event{Kind: SignatureChecked, Key: t.Key, Source: t.Request.Ref, Digest: r.SignedDigest}
	if r.Status == provenance.Unsigned {
		e.Kind = Warned
		e.Digest = t.Digest.String()
		e.Message = fmt.Sprintf("%s (%s) is not signed; exporting it unverified", t.Request.Ref, t.Platform)
		return e
	}
	e.Message = fmt.Sprintf("signed at %s by %s", r.SignedDigest, provenance.Signers(r.Keys, r.Identities))
	if len(r.Attestations) > 0 {
		var types []string
		for _, a := range r.Attestations {
			types = append(types, a.PredicateType)
		}
		e.Message += "; attestations: " + strings.Join(types, ", ")
	}
	return e
}

// carried returns one payload per distinct evidence blob.
func carried(evidence []*provenance.Evidence) []bundle.Payload {
	blobs := map[v1.Hash][]byte{}
	for _, ev := range evidence {
		if ev == nil {
			continue
		}
		for h, b := range ev.Blobs {
			blobs[h] = b
		}
	}
	var out []bundle.Payload
	for h, b := range blobs {
		out = append(out, bundle.Payload{
			Path:   provenance.BlobPath(h),
			Size:   int64(len(b)),
			SHA256: h.Hex,
			Open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// signatureRecord is what the manifest records for ev.
func signatureRecord(ev *provenance.Evidence, carry bool) *manifest.Signature {
	if ev == nil {
		return nil
	}
	r := ev.Record
	r.Carried = carry && r.Status == provenance.Verified
	if !r.Carried {
		r.Attestations = nil // recorded only when they travel
	}
	return &r
}
