package provenance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/airlockhq/airlock/manifest"
)

// Legacy attestations: DSSE envelopes as the layers of the image cosign
// attaches at the tag "sha256-<hex>.att" (cosign attest without
// --new-bundle-format). docs/format.md section 12.

// FormatDSSE marks a manifest.Attestation that is a legacy ".att" layer.
const FormatDSSE = "dsse"

const intotoPayloadType = "application/vnd.in-toto+json"

// legacyAttestations fetches, verifies with keys and returns as records
// and evidence blobs the legacy attestations of digest d in repo. Those
// that do not verify are named in notes.
func (v *Verifier) legacyAttestations(ctx context.Context, repo name.Repository, d v1.Hash, keys []*Key) ([]manifest.Attestation, map[v1.Hash][]byte, []string, error) {
	opt := ociremote.WithRemoteOptions(v.remoteOptions(ctx)...)
	tag, err := ociremote.AttestationTag(repo.Digest(d.String()), opt)
	if err != nil {
		return nil, nil, nil, err
	}
	atts, err := ociremote.Signatures(tag, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	list, err := atts.Get()
	if err != nil || len(list) == 0 {
		return nil, nil, nil, err
	}
	raw, err := atts.RawManifest()
	if err != nil {
		return nil, nil, nil, err
	}
	md, err := atts.Digest()
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		out   []manifest.Attestation
		notes []string
	)
	blobs := map[v1.Hash][]byte{}
	for _, a := range list {
		ld, err := a.Digest()
		if err != nil {
			return nil, nil, nil, err
		}
		env, err := a.Payload()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("attestation %s: %w", ld, err)
		}
		if len(env) > MaxBlobSize {
			notes = append(notes, fmt.Sprintf("the attestation %s at %s is larger than %d bytes and is left out", ld, tag, MaxBlobSize))
			continue
		}
		typ, _, err := verifyEnvelope(ctx, env, d, keys)
		if err != nil {
			notes = append(notes, fmt.Sprintf("the attestation %s at %s does not verify and is left out: %v", ld, tag, err))
			continue
		}
		blobs[ld] = env
		out = append(out, manifest.Attestation{PredicateType: typ, Manifest: md.String(), Bundle: ld.String(), Format: FormatDSSE})
	}
	if len(out) > 0 {
		blobs[md] = raw
	}
	return out, blobs, notes, nil
}

// statement is the part of an in-toto statement that is checked.
type statement struct {
	PredicateType string    `json:"predicateType"`
	Subject       []subject `json:"subject"`
}

type subject struct {
	Digest map[string]string `json:"digest"`
}

// addLegacyAttestations adds the legacy attestations of d that verify
// with keys to ev (up to manifest.MaxAttestations in all).
func (v *Verifier) addLegacyAttestations(ctx context.Context, repo name.Repository, d v1.Hash, keys []*Key, ev *Evidence) error {
	atts, blobs, notes, err := v.legacyAttestations(ctx, repo, d, keys)
	if err != nil {
		return err
	}
	if room := manifest.MaxAttestations - len(ev.Record.Attestations); len(atts) > room {
		notes = append(notes, fmt.Sprintf("more than %d attestations; %d legacy ones are left out", manifest.MaxAttestations, len(atts)-room))
		atts = atts[:room]
	}
	ev.Record.Attestations = append(ev.Record.Attestations, atts...)
	ev.Notes = append(ev.Notes, notes...)
	for _, a := range atts { // the kept ones only
		for _, d := range []string{a.Manifest, a.Bundle} {
			h, _ := v1.NewHash(d)
			ev.Blobs[h] = blobs[h]
		}
	}
	return nil
}

// verifyEnvelope checks a DSSE envelope as `cosign verify-attestation
// --key K --insecure-ignore-tlog` does: an in-toto payload, signed by one
// of keys, whose statement names d as a subject. It returns the
// statement's predicate type and the id of the key that verified.
func verifyEnvelope(ctx context.Context, raw []byte, d v1.Hash, keys []*Key) (string, string, error) {
	var env ssldsse.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", "", fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if env.PayloadType != intotoPayloadType {
		return "", "", fmt.Errorf("payload type %q, want %s", env.PayloadType, intotoPayloadType)
	}
	if len(keys) == 0 {
		return "", "", errors.New("legacy attestations need a cosign public key")
	}
	var why []string
	id := ""
	for _, k := range keys {
		ev, err := ssldsse.NewEnvelopeVerifier(&dsse.VerifierAdapter{SignatureVerifier: k.verifier})
		if err == nil {
			_, err = ev.Verify(ctx, &env)
		}
		if err != nil {
			why = append(why, fmt.Sprintf("key %s: %v", k.Path, err))
			continue
		}
		id = k.ID
		break
	}
	if id == "" {
		return "", "", errors.New(strings.Join(why, "; "))
	}
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return "", "", fmt.Errorf("statement: %w", err)
	}
	var st statement
	if err := json.Unmarshal(body, &st); err != nil {
		return "", "", fmt.Errorf("statement: %w", err)
	}
	if !slices.ContainsFunc(st.Subject, func(s subject) bool { return s.Digest[d.Algorithm] == d.Hex }) {
		return "", "", fmt.Errorf("the statement's subjects do not include %s", d)
	}
	return st.PredicateType, id, manifest.CheckPredicateType(st.PredicateType)
}

// carriedEnvelope verifies the carried legacy attestation a for signed.
func carriedEnvelope(ctx context.Context, get func(string, v1.Hash) ([]byte, error), a manifest.Attestation, signed v1.Hash, keys []*Key) (string, error) {
	mh, err1 := v1.NewHash(a.Manifest)
	lh, err2 := v1.NewHash(a.Bundle)
	if err1 != nil || err2 != nil {
		return "", errors.New("malformed digest")
	}
	raw, err := get("attestation manifest", mh)
	if err != nil {
		return "", err
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("attestation manifest %s: %w", mh, err)
	}
	if !slices.ContainsFunc(m.Layers, func(l v1.Descriptor) bool { return l.Digest == lh }) {
		return "", fmt.Errorf("the attestation manifest %s does not list %s", mh, lh)
	}
	env, err := get("attestation", lh)
	if err != nil {
		return "", err
	}
	typ, _, err := verifyEnvelope(ctx, env, signed, keys)
	return typ, err
}
