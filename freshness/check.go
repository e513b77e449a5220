package freshness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/manifest"
)

// Bundle is what the freshness check needs of a verified bundle.
type Bundle struct {
	ID        string // bundle id (hash of SHA256SUMS): where its record lies
	Digest    string // sha256 of its manifest.json bytes
	Signer    string
	Created   time.Time
	Freshness *manifest.Freshness // nil for a bundle written before the field existed
}

// Digest is a bundle's digest: the hex SHA-256 of its manifest.json bytes,
// which SHA256SUMS and so the signature cover.
func Digest(manifestJSON []byte) string {
	sum := sha256.Sum256(manifestJSON)
	return hex.EncodeToString(sum[:])
}

// FromManifest describes the bundle id whose verified manifest.json is raw
// and parses to m.
func FromManifest(id string, raw []byte, m *manifest.Manifest) Bundle {
	return Bundle{ID: id, Digest: Digest(raw), Signer: m.Signer, Created: m.Created, Freshness: m.Freshness}
}

// Status is the freshness verdict on a bundle.
type Status string

// Statuses.
const (
	Fresh       Status = "fresh"       // newer than the channel state (or the first of its channel)
	Same        Status = "same"        // the bundle the state names: imported again
	Unversioned Status = "unversioned" // written before freshness existed: not checked
	// Superseded: a newer bundle was accepted while this one was imported
	// (its objects are in place, the state stays at the newer one).
	Superseded Status = "superseded"
	Refused    Status = "refused"
)

// Verdict is what Check found.
type Verdict struct {
	Status    Status     `json:"status"`
	Channel   string     `json:"channel,omitempty"`
	Sequence  uint64     `json:"sequence,omitempty"`
	Expires   time.Time  `json:"expires,omitzero"`
	Stored    uint64     `json:"stored_sequence,omitempty"` // the state's sequence; 0 when none was given or found
	Overrides []Override `json:"overrides,omitempty"`       // the flags that let the bundle in
}

// Kind says why a bundle is refused.
type Kind string

// Kinds of *Error.
const (
	Rollback Kind = "rollback" // sequence lower than the state's
	Conflict Kind = "conflict" // sequence equal to the state's, other digest
	Expired  Kind = "expired"
	Clock    Kind = "clock" // the reference time is before the bundle was made
)

// Error is a bundle refused by the freshness check; a verification
// failure (exit 3).
type Error struct {
	Kind     Kind
	Channel  string
	Signer   string
	Sequence uint64
	Stored   uint64    // the state's sequence (Rollback, Conflict)
	Expires  time.Time // Expired
	Now      time.Time
	Created  time.Time // Clock
}

func (e *Error) Error() string {
	ch := fmt.Sprintf("channel %s of key %s", e.Channel, e.Signer)
	switch e.Kind {
	case Rollback:
		return fmt.Sprintf("bundle sequence %d is older than sequence %d, the last accepted on %s: a replayed old bundle (rollback); import the newest bundle, or pass --allow-rollback to go back on purpose (recorded in the state's history)", e.Sequence, e.Stored, ch)
	case Conflict:
		return fmt.Sprintf("bundle sequence %d on %s was accepted before with other content: two bundles with one sequence (the sequence state beside the key was lost or copied?); pass --allow-rollback to take this one (recorded in the state's history)", e.Sequence, ch)
	case Expired:
		return fmt.Sprintf("bundle sequence %d on %s expired at %s (reference time %s): a stale bundle; export a fresh one, or pass --allow-expired (recorded in the state's history); --now sets the reference time when this machine's clock is wrong", e.Sequence, ch, e.Expires.Format(time.RFC3339), e.Now.Format(time.RFC3339))
	case Clock:
		return fmt.Sprintf("reference time %s is before bundle sequence %d on %s was created (%s): this machine's clock is wrong, and every bundle would look fresh; set the clock, or pass --now with the current time", e.Now.Format(time.RFC3339), e.Sequence, ch, e.Created.Format(time.RFC3339))
	}
	return string(e.Kind)
}

// clockSkew is how far before a bundle's creation the reference time may
// lie (clocks on the two sides of the gap disagree a little).
const clockSkew = time.Hour

// Check judges bundle b against the channel state st (nil: none yet) at
// reference time now; allow lists the overrides the user gave. A refused
// bundle is an *Error.
func Check(b Bundle, st *State, now time.Time, allow ...Override) (Verdict, error) {
	f := b.Freshness
	if f == nil {
		return Verdict{Status: Unversioned}, nil
	}
	v := Verdict{Status: Fresh, Channel: f.Channel, Sequence: f.Sequence, Expires: f.Expires}
	e := &Error{Channel: f.Channel, Signer: b.Signer, Sequence: f.Sequence, Now: now, Created: b.Created, Expires: f.Expires}
	refuse := func(k Kind, o Override) error {
		if slices.Contains(allow, o) {
			v.Overrides = append(v.Overrides, o)
			return nil
		}
		e.Kind, v.Status = k, Refused
		return e
	}
	if now.Before(b.Created.Add(-clockSkew)) {
		e.Kind, v.Status = Clock, Refused
		return v, e
	}
	if !now.Before(f.Expires) {
		if err := refuse(Expired, AllowExpired); err != nil {
			return v, err
		}
	}
	if st == nil {
		return v, nil
	}
	v.Stored, e.Stored = st.Sequence, st.Sequence
	switch {
	case f.Sequence < st.Sequence:
		return v, refuse(Rollback, AllowRollback)
	case f.Sequence == st.Sequence && b.Digest != st.Digest:
		return v, refuse(Conflict, AllowRollback)
	case f.Sequence == st.Sequence:
		v.Status = Same
	}
	return v, nil
}

// ReadStateOrReplace is ReadState, except that with AllowRollback in
// allow a damaged or tampered state (a *StateError) reads as none, with
// damaged set and the etag to replace it over: --allow-rollback is the
// way to rewrite it, and the new state's history records that.
func ReadStateOrReplace(ctx context.Context, s *bucket.Store, prefix, signer, channel string, allow ...Override) (st *State, etag string, damaged bool, err error) {
	st, etag, err = ReadState(ctx, s, prefix, signer, channel)
	if errors.As(err, new(*StateError)) && slices.Contains(allow, AllowRollback) && etag != "" {
		return nil, etag, true, nil
	}
	return st, etag, false, err
}

// maxAttempts bounds Accept's re-reads after refused writes.
const maxAttempts = 10

// Accept moves the channel state of bundle b under prefix to b, once
// every object of b is in place and its record stored: it re-reads the
// state and re-checks b against it (another import may have moved it
// meanwhile), and writes it only over the state
// it read (If-None-Match or If-Match), trying again when another import
// wrote first, so the higher sequence wins and the state never goes back.
// seen is the state's sequence when the caller checked b (0: none): a
// state moved past b since then (two imports at once) is Superseded, not
// a rollback.
// A bundle without freshness leaves the state alone; a bundle the state
// names already leaves it as it is.
func Accept(ctx context.Context, s *bucket.Store, prefix string, b Bundle, seen uint64, now time.Time, allow ...Override) (Verdict, error) {
	if b.Freshness == nil {
		return Verdict{Status: Unversioned}, nil
	}
	for attempt := 1; ; attempt++ {
		st, etag, damaged, err := ReadStateOrReplace(ctx, s, prefix, b.Signer, b.Freshness.Channel, allow...)
		if err != nil {
			return Verdict{}, err
		}
		v, err := Check(b, st, now, allow...)
		if damaged {
			v.Overrides = append(v.Overrides, AllowRollback)
		}
		var fe *Error
		if errors.As(err, &fe) && fe.Kind == Rollback && fe.Stored > seen {
			// Another import moved the state past b after the caller's
			// check: as if b had been accepted just before it.
			v.Status = Superseded
			return v, nil
		}
		if err != nil {
			return v, err
		}
		if v.Status == Same {
			return v, nil
		}
		next := b.state(st, now, v.Overrides)
		data, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return v, err
		}
		data = append(data, '\n')
		cond := bucket.IfAbsent()
		if etag != "" {
			cond = bucket.IfUnchanged(etag)
		}
		key := Key(prefix, b.Signer, b.Freshness.Channel)
		err = s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), Digest(data), bucket.WithContentType("application/json"), cond)
		if errors.Is(err, bucket.ErrPrecondition) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return v, fmt.Errorf("writing channel state %s (the bundle's objects are in place; import it again to record it): %w", key, err)
		}
		return v, nil
	}
}

// state is the channel state once b is accepted over st.
func (b Bundle) state(st *State, now time.Time, overrides []Override) *State {
	next := &State{Format: stateFormat, Signer: b.Signer, Channel: b.Freshness.Channel, Sequence: b.Freshness.Sequence,
		Digest: b.Digest, Bundle: b.ID, Expires: b.Freshness.Expires, Accepted: now.UTC().Truncate(time.Second)}
	// The current bundle heads the history, with the overrides that let it in.
	next.History = []Past{{Sequence: next.Sequence, Digest: next.Digest, Bundle: next.Bundle, Accepted: next.Accepted, Override: overrides}}
	if st != nil {
		next.History = append(next.History, st.History...)
	}
	if len(next.History) > maxHistory {
		next.History = next.History[:maxHistory]
	}
	return next
}
