package freshness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

// Health is what an audit found of one channel state.
type Health string

// Healths.
const (
	Healthy  Health = "ok"
	Frozen   Health = "expired"  // the newest accepted bundle has expired: the site gets no new bundles
	Lagging  Health = "lagging"  // a record holds a newer bundle than the state (an import died before its state write)
	Tampered Health = "tampered" // the state is not what import wrote
)

// ChannelReport is the audit of one channel state.
type ChannelReport struct {
	Key     string
	Health  Health
	Problem string // for every Health but Healthy: what is wrong and what to do
	State   *State // nil when it could not be read
}

// Audit checks every channel state under prefix against the bundle
// records (read and signature-checked by package record, kept as their
// summaries): each must be
// readable and valid, name a bundle whose record is in the bucket with the
// state's digest and the same signer, channel and sequence (else
// Tampered); a record of a newer bundle on the channel means the state
// lags (Lagging); a newest bundle expired at now means a frozen site
// (Frozen).
func Audit(ctx context.Context, s *bucket.Store, prefix string, records []record.Summary, now time.Time) ([]ChannelReport, error) {
	objs, err := s.List(ctx, prefix+Folder)
	if err != nil {
		return nil, err
	}
	byID := map[string]record.Summary{}
	for _, r := range records {
		byID[r.ID] = r
	}
	var out []ChannelReport
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix+Folder)
		signer, file, ok := strings.Cut(rel, "/")
		channel, isJSON := strings.CutSuffix(file, ".json")
		if !ok || !isJSON || !keys.IsID(signer) || manifest.CheckChannel(channel) != nil {
			out = append(out, ChannelReport{Key: o.Key, Health: Tampered, Problem: "not a channel state (SIGNER/CHANNEL.json); airlock import writes nothing else under " + prefix + Folder + ": find out who wrote it"})
			continue
		}
		st, _, err := ReadState(ctx, s, prefix, signer, channel)
		var se *StateError
		if errors.As(err, &se) {
			out = append(out, ChannelReport{Key: o.Key, Health: Tampered, Problem: se.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
		if st == nil { // removed meanwhile
			continue
		}
		out = append(out, judge(o.Key, st, byID, records, now))
	}
	return out, nil
}

func judge(key string, st *State, byID map[string]record.Summary, records []record.Summary, now time.Time) ChannelReport {
	rep := ChannelReport{Key: key, State: st}
	tampered := func(format string, args ...any) ChannelReport {
		rep.Health, rep.Problem = Tampered, fmt.Sprintf(format, args...)+"; the state was not written by airlock import: find out who changed it, then import the channel's newest bundle with --allow-rollback to rewrite it"
		return rep
	}
	rec, ok := byID[st.Bundle]
	if !ok {
		return tampered("names bundle %s, whose record is not under .airlock/bundles/", st.Bundle)
	}
	if rec.Digest != st.Digest {
		return tampered("names bundle %s with digest %s, but its signed manifest has digest %s", st.Bundle, st.Digest, rec.Digest)
	}
	f := rec.Freshness
	if f == nil || f.Channel != st.Channel || f.Sequence != st.Sequence || rec.Signer.ID != st.Signer {
		return tampered("names bundle %s as sequence %d of channel %s of key %s, which its signed manifest does not say", st.Bundle, st.Sequence, st.Channel, st.Signer)
	}
	for _, r := range records {
		if g := r.Freshness; g != nil && r.Signer.ID == st.Signer && g.Channel == st.Channel && g.Sequence > st.Sequence && !rolledBack(st) {
			rep.Health, rep.Problem = Lagging, fmt.Sprintf("bundle %s (sequence %d) is recorded but the state names sequence %d: an import stopped before its state write; import bundle %s again", r.ID, g.Sequence, st.Sequence, r.ID)
			return rep
		}
	}
	if !now.Before(st.Expires) {
		rep.Health, rep.Problem = Frozen, fmt.Sprintf("the newest accepted bundle (sequence %d, bundle %s) expired at %s: this site has had no fresh bundle since; carry and import a new one", st.Sequence, st.Bundle, st.Expires.Format(time.RFC3339))
		return rep
	}
	rep.Health = Healthy
	return rep
}

// rolledBack reports whether the current bundle was let in by
// --allow-rollback: newer records are then expected.
func rolledBack(st *State) bool {
	return len(st.History) > 0 && st.History[0].overridden(AllowRollback)
}

// TamperedError is an audit that found channel states not written by
// airlock import; a verification failure (exit 3).
type TamperedError struct{ Keys []string }

func (e *TamperedError) Error() string {
	return fmt.Sprintf("%d channel state(s) tampered with: %s", len(e.Keys), strings.Join(e.Keys, ", "))
}

// TamperedStates returns a *TamperedError naming the tampered states of reps,
// or nil.
func TamperedStates(reps []ChannelReport) error {
	var keys []string
	for _, r := range reps {
		if r.Health == Tampered {
			keys = append(keys, r.Key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return &TamperedError{Keys: keys}
}
