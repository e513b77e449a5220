package export

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/airlockhq/airlock/rootfs"
)

// memberSource remembers, for one export run, where the members of the
// images staged so far lie, by the SHA-256 of their uncompressed runs,
// so that a run met again (another image on the same base) is copied
// from an earlier image's staged tgz instead of compressed again
// (docs/format-v2.md section 9). It is the rootfs.MemberSource of every
// conversion of the run.
type memberSource struct {
	level  int
	mu     sync.Mutex
	at     map[[32]byte]memberAt // by run
	named  map[string]memberAt   // by member name
	reused atomic.Int64
}

// memberAt is a member in a staged data file.
type memberAt struct {
	path   string
	member cachedMember
}

func newMemberSource(level int) *memberSource {
	return &memberSource{level: level, at: map[[32]byte]memberAt{}, named: map[string]memberAt{}}
}

// add remembers where the members of s lie, by name, and by run those
// whose record names their run.
func (src *memberSource) add(s staged) {
	src.mu.Lock()
	defer src.mu.Unlock()
	for _, m := range s.members {
		at := memberAt{s.memberFile(m), m}
		if _, ok := src.named[m.Name]; !ok {
			src.named[m.Name] = at
		}
		raw, err := hex.DecodeString(m.Raw)
		if err != nil || len(raw) != sha256.Size {
			continue
		}
		if _, ok := src.at[[32]byte(raw)]; !ok {
			src.at[[32]byte(raw)] = at
		}
	}
}

// locate returns where the member named name lies, if a staged data file
// holds it.
func (src *memberSource) locate(name string) (memberAt, bool) {
	src.mu.Lock()
	defer src.mu.Unlock()
	at, ok := src.named[name]
	return at, ok
}

// forget drops every member in the data file at path (evicted).
func (src *memberSource) forget(path string) {
	src.mu.Lock()
	defer src.mu.Unlock()
	for k, at := range src.at {
		if at.path == path {
			delete(src.at, k)
		}
	}
	for k, at := range src.named {
		if at.path == path {
			delete(src.named, k)
		}
	}
}

// maxMember bounds what Member reads: a member of a run of at most
// rootfs.MemberPieceSize bytes, with room for DEFLATE's worst case.
const maxMember = rootfs.MemberPieceSize + rootfs.MemberPieceSize/8 + 1<<16

// Member returns the bytes of the member of run raw at level when a
// staged tgz holds it and they still hash to its name; otherwise the run
// is compressed (a damaged staged file is found again when the bundle is
// written, and its image converted again then).
func (src *memberSource) Member(raw [32]byte, level int) ([]byte, [32]byte, bool) {
	if level != src.level {
		return nil, [32]byte{}, false
	}
	src.mu.Lock()
	at, ok := src.at[raw]
	src.mu.Unlock()
	if !ok || at.member.Size > maxMember {
		return nil, [32]byte{}, false
	}
	f, err := os.Open(at.path)
	if err != nil {
		return nil, [32]byte{}, false
	}
	defer f.Close()
	b := make([]byte, at.member.Size)
	if _, err := io.ReadFull(io.NewSectionReader(f, at.member.Offset, at.member.Size), b); err != nil {
		return nil, [32]byte{}, false
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != at.member.Name {
		return nil, [32]byte{}, false
	}
	src.reused.Add(1)
	return b, sum, true
}
