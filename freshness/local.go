package freshness

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/airlockhq/airlock/internal/atomicfile"
	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/manifest"
)

// maxLocalState bounds the state file beside a key.
const maxLocalState = 1 << 20

// lockTimeout bounds the wait for another export holding the lock.
var lockTimeout = 30 * time.Second

// StatePath is the sequence state file of the private key at keyPath.
func StatePath(keyPath string) string { return keyPath + ".state" }

// localState is KEY.key.state.
type localState struct {
	Channels map[string]*localChannel `json:"channels"`
}

type localChannel struct {
	Sequence uint64 `json:"sequence"`                  // the last sequence handed out
	Digest   string `json:"digest,omitempty"`          // of the newest complete bundle
	DigestOf uint64 `json:"digest_sequence,omitempty"` // the sequence of that bundle
}

// Reservation is a sequence number handed out for one bundle.
type Reservation struct {
	Channel  string
	Sequence uint64
	Previous string // digest of the channel's newest complete bundle; "" for none
	path     string
}

// Freshness is the manifest field for a bundle created at created that is
// valid for validFor.
func (r *Reservation) Freshness(created time.Time, validFor time.Duration) *manifest.Freshness {
	return &manifest.Freshness{Channel: r.Channel, Sequence: r.Sequence, Previous: r.Previous,
		Expires: created.UTC().Truncate(time.Second).Add(validFor)}
}

// Reserve hands out the next sequence of channel from the state file
// beside the private key at keyPath, and records it there before it
// returns: a sequence is never handed out twice, even when the export
// that reserved it fails, and two exports at once (serialised by an
// exclusive lock on the state's lock file) get different sequences.
func Reserve(keyPath, channel string) (*Reservation, error) {
	if err := manifest.CheckChannel(channel); err != nil {
		return nil, err
	}
	path := StatePath(keyPath)
	var r *Reservation
	err := update(path, func(st *localState) error {
		c := st.Channels[channel]
		if c == nil {
			c = &localChannel{}
			st.Channels[channel] = c
		}
		c.Sequence++
		r = &Reservation{Channel: channel, Sequence: c.Sequence, Previous: c.Digest, path: path}
		return nil
	})
	return r, err
}

// Fixed is a reservation of sequence seq given by the user (to rebuild a
// bundle byte for byte): it leaves the state file alone.
func Fixed(channel string, seq uint64, previous string) (*Reservation, error) {
	r := &Reservation{Channel: channel, Sequence: seq, Previous: previous}
	if err := manifest.CheckChannel(channel); err != nil {
		return nil, err
	}
	if seq == 0 || previous != "" && !manifest.IsSHA256Hex(previous) {
		return nil, fmt.Errorf("sequence %d previous %q: want a sequence of 1 or more and a previous digest of 64 hex digits", seq, previous)
	}
	return r, nil
}

// Complete records digest as the channel's newest complete bundle, the
// previous of the next one, unless a later sequence recorded one
// meanwhile.
func (r *Reservation) Complete(digest string) error {
	if r.path == "" {
		return nil
	}
	return update(r.path, func(st *localState) error {
		c := st.Channels[r.Channel]
		if c == nil { // the state was replaced meanwhile
			c = &localChannel{Sequence: r.Sequence}
			st.Channels[r.Channel] = c
		}
		if c.DigestOf < r.Sequence {
			c.Digest, c.DigestOf = digest, r.Sequence
		}
		return nil
	})
}

// update changes the state file at path under its lock.
func update(path string, change func(*localState) error) error {
	unlock, err := lock(path+".lock", lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readLocal(path)
	if err != nil {
		return err
	}
	if err := change(st); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := atomicfile.New(filepath.Dir(path), ".state-*", 0o600)
	if err != nil {
		return fmt.Errorf("sequence state %s: %w", path, err)
	}
	defer f.Abort()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("sequence state %s: %w", path, err)
	}
	if err := f.Commit(path); err != nil {
		return fmt.Errorf("sequence state %s: %w", path, err)
	}
	return nil
}

func readLocal(path string) (*localState, error) {
	st := &localState{Channels: map[string]*localChannel{}}
	b, err := bounded.ReadFile(path, maxLocalState)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sequence state %s: %w", path, err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("sequence state %s is damaged (%v); restore it from a backup, or see README \"Rollback and freeze protection\"", path, err)
	}
	if st.Channels == nil {
		st.Channels = map[string]*localChannel{}
	}
	for name, c := range st.Channels {
		if err := manifest.CheckChannel(name); err != nil || c == nil || (c.Digest != "" && !manifest.IsSHA256Hex(c.Digest)) {
			return nil, fmt.Errorf("sequence state %s: channel %q is damaged; restore the file from a backup", path, name)
		}
	}
	return st, nil
}
