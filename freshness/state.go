package freshness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/internal/hexdigits"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// Folder is where import keeps the channel states, relative to the
// import prefix: Folder + SIGNER + "/" + CHANNEL + ".json".
const Folder = ".airlock/state/"

// MaxStateSize bounds a channel state object.
const MaxStateSize = 64 << 10

// maxHistory bounds a state's history.
const maxHistory = 32

// stateFormat is the format of State.
const stateFormat = 1

// Override names the flag that let a bundle in against the rules.
type Override string

// Overrides.
const (
	AllowRollback Override = "allow-rollback"
	AllowExpired  Override = "allow-expired"
)

// State is a channel's state in the bucket (docs/format.md section 5,
// Channel state).
type State struct {
	Format   int       `json:"format"`
	Signer   string    `json:"signer"`
	Channel  string    `json:"channel"`
	Sequence uint64    `json:"sequence"`
	Digest   string    `json:"digest"`
	Bundle   string    `json:"bundle"`
	Expires  time.Time `json:"expires"`
	Accepted time.Time `json:"accepted"`
	History  []Past    `json:"history,omitempty"`
}

// Past is an earlier state of a channel, or the override that let the
// current one in.
type Past struct {
	Sequence uint64     `json:"sequence"`
	Digest   string     `json:"digest"`
	Bundle   string     `json:"bundle"`
	Accepted time.Time  `json:"accepted"`
	Override []Override `json:"override,omitempty"`
}

// Key is the key of the state of signer's channel under prefix.
func Key(prefix, signer, channel string) string {
	return prefix + Folder + signer + "/" + channel + ".json"
}

// StateError is a state object that is not what import writes: damaged or
// tampered with.
type StateError struct {
	Key string
	Err error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("channel state %s: %v; it was not written by airlock import (damaged or tampered with): find out who wrote it (the bucket's access log), then import the channel's newest bundle with --allow-rollback to rewrite it", e.Key, e.Err)
}

func (e *StateError) Unwrap() error { return e.Err }

// validate checks st as read from key.
func (st *State) validate(signer, channel string) error {
	switch {
	case st.Format != stateFormat:
		return fmt.Errorf("format %d, want %d", st.Format, stateFormat)
	case st.Signer != signer || st.Channel != channel:
		return fmt.Errorf("names signer %q channel %q, not the ones of its key", st.Signer, st.Channel)
	case st.Sequence == 0:
		return errors.New("sequence 0")
	case !manifest.IsSHA256Hex(st.Digest):
		return fmt.Errorf("malformed digest %q", st.Digest)
	case !isBundleID(st.Bundle):
		return fmt.Errorf("malformed bundle id %q", st.Bundle)
	case len(st.History) > maxHistory:
		return fmt.Errorf("%d history entries, at most %d", len(st.History), maxHistory)
	}
	if len(st.History) == 0 {
		return errors.New("no history")
	}
	if h := st.History[0]; h.Sequence != st.Sequence || h.Digest != st.Digest || h.Bundle != st.Bundle {
		return errors.New("its history does not start with its current bundle")
	}
	for i, p := range st.History {
		if !manifest.IsSHA256Hex(p.Digest) || !isBundleID(p.Bundle) || p.Sequence == 0 {
			return fmt.Errorf("history entry %d is malformed", i)
		}
		if i+1 == len(st.History) {
			break
		}
		older := st.History[i+1]
		if (p.Sequence < older.Sequence || p.Sequence == older.Sequence && p.Digest != older.Digest) && !p.overridden(AllowRollback) {
			return fmt.Errorf("history goes back from sequence %d to %d without --allow-rollback", older.Sequence, p.Sequence)
		}
	}
	return nil
}

// isBundleID reports whether id has the form of a bundle id (16 lowercase
// hex digits, docs/format.md section 6).
func isBundleID(id string) bool { return hexdigits.IsLower(id, 16) }

func (p Past) overridden(o Override) bool {
	for _, x := range p.Override {
		if x == o {
			return true
		}
	}
	return false
}

// ReadState reads the state of signer's channel under prefix and checks it;
// nil when there is none. etag names the version read, for the update; it
// is set with a *StateError too, so that --allow-rollback can replace a
// damaged state (over exactly the one seen).
func ReadState(ctx context.Context, s *bucket.Store, prefix, signer, channel string) (st *State, etag string, err error) {
	if !keys.IsID(signer) {
		return nil, "", fmt.Errorf("signer %q is not a key id", signer)
	}
	if err := manifest.CheckChannel(channel); err != nil {
		return nil, "", err
	}
	key := Key(prefix, signer, channel)
	for attempt := 0; ; attempt++ {
		obj, ok, err := s.Stat(ctx, key)
		if err != nil || !ok {
			return nil, "", err
		}
		if obj.Size > MaxStateSize {
			return nil, obj.ETag, &StateError{key, fmt.Errorf("%d bytes, at most %d", obj.Size, MaxStateSize)}
		}
		b, err := readSmall(ctx, s, key)
		if errors.Is(err, bucket.ErrNotFound) && attempt < 3 {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != obj.SHA256 {
			if attempt < 3 { // replaced between the Stat and the read
				continue
			}
			return nil, obj.ETag, &StateError{key, errors.New("its recorded sha256 (x-amz-meta-sha256) is missing or does not match its content")}
		}
		st = &State{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(st); err != nil {
			return nil, obj.ETag, &StateError{key, err}
		}
		if err := st.validate(signer, channel); err != nil {
			return nil, obj.ETag, &StateError{key, err}
		}
		return st, obj.ETag, nil
	}
}

func readSmall(ctx context.Context, s *bucket.Store, key string) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return bounded.ReadAll(rc, MaxStateSize, key)
}
