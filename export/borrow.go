package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/internal/lazyfile"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/rootfs"
	"github.com/airlockhq/airlock/source"
	"github.com/airlockhq/airlock/stage"
)

// memberSink stages the members of a format 2 conversion that may borrow
// (docs/format-v2.md section 9): a member the MemberSource supplied,
// already staged in another entry's data file, is recorded as a reference
// to it instead of being written again; every other member is written to
// the entry's own data file. It hashes the whole tgz, which the data file
// then no longer holds.
type memberSink struct {
	w       io.Writer // the entry's data file
	own     int64     // bytes written to it
	locate  func(name string) (memberAt, bool)
	tgz     hash.Hash
	size    int64
	members []cachedMember
	crcs    []uint32 // each member's CRC-32C, as the conversion made it
	refs    []string
	tarSize int64
}

func newMemberSink(w io.Writer, locate func(string) (memberAt, bool)) *memberSink {
	return &memberSink{w: w, locate: locate, tgz: sha256.New()}
}

// member is the rootfs.WithMemberOutput of the conversion.
func (s *memberSink) member(m rootfs.Member, b []byte) error {
	s.tgz.Write(b)
	s.size += int64(len(b))
	s.tarSize += m.TarSize
	c := cachedMember{Name: hex.EncodeToString(m.SHA256[:]), Size: m.Size}
	if m.RawSHA256 != ([32]byte{}) {
		c.Raw = hex.EncodeToString(m.RawSHA256[:])
	}
	s.crcs = append(s.crcs, m.CRC32C)
	if m.Reused {
		if at, ok := s.locate(c.Name); ok && at.member.Size == m.Size {
			c.File, c.Offset = filepath.Base(at.path), at.member.Offset
			if !slices.Contains(s.refs, c.File) {
				s.refs = append(s.refs, c.File)
			}
			s.members = append(s.members, c)
			return nil
		}
	}
	c.Offset = s.own
	n, err := s.w.Write(b)
	s.own += int64(n)
	if err != nil {
		return err
	}
	s.members = append(s.members, c)
	return nil
}

// meta completes the record's meta with the sink's members and the tgz's
// size and sha256 (when it borrowed: otherwise the data file is the tgz).
func (s *memberSink) meta(m cacheMeta) cacheMeta {
	m.Members, m.TarSize = s.members, s.tarSize
	if len(s.refs) > 0 {
		m.TGZSize, m.TGZSHA256 = s.size, hex.EncodeToString(s.tgz.Sum(nil))
	}
	return m
}

// mayBorrow reports whether t's conversion may find members already staged
// by another image: t holds a layer another image of the export holds.
func mayBorrow(t source.Target, o *options) bool {
	if o.source == nil || o.memo == nil {
		return false
	}
	ds, err := layerDigests(t.Image)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(ds, o.memo.Shares)
}

// isStageDataName reports whether name could be a staging cache data
// file's name (stage checks it exactly when it records a reference).
func isStageDataName(name string) bool {
	return strings.HasSuffix(name, ".tgz") && filepath.Base(name) == name && !strings.HasPrefix(name, ".")
}

// checkStagedMembers checks a format 2 record's members against its entry
// e: those in the entry's own data file tile it exactly (names of 64
// lowercase hex digits, offsets contiguous from 0, sizes positive and
// summing to its size); those in another entry's data file (File) name one
// of e's references. It returns the tgz's size: the sum of every member's
// size, which for a record with borrowed members must be its tgz_size.
func checkStagedMembers(e stage.Entry, m cacheMeta) (int64, error) {
	ms := m.Members
	if len(ms) == 0 {
		return 0, errNoMembers
	}
	if m.TarSize <= 0 {
		return 0, fmt.Errorf("tar size %d recorded, want a positive size", m.TarSize)
	}
	var own, total int64
	borrowed := false
	for i, c := range ms {
		if !manifest.IsSHA256Hex(c.Name) {
			return 0, fmt.Errorf("member %d: name %.64q is not 64 lowercase hex digits", i, c.Name)
		}
		if c.Raw != "" && !manifest.IsSHA256Hex(c.Raw) {
			return 0, fmt.Errorf("member %d (%s): run sha256 %.64q is not 64 lowercase hex digits", i, c.Name, c.Raw)
		}
		if c.Size <= 0 {
			return 0, fmt.Errorf("member %d (%s) has size %d", i, c.Name, c.Size)
		}
		if c.File != "" {
			if !isStageDataName(c.File) || !slices.Contains(e.Refs, c.File) || c.Offset < 0 {
				return 0, fmt.Errorf("member %d (%s) at offset %d of %q, which is not a staged file this entry refers to", i, c.Name, c.Offset, c.File)
			}
			borrowed = true
		} else {
			if c.Offset != own || c.Size > e.Size-own {
				return 0, fmt.Errorf("member %d (%s) at offset %d, %d bytes, does not continue the members before it (offset %d) inside the %d-byte file", i, c.Name, c.Offset, c.Size, own, e.Size)
			}
			own += c.Size
		}
		total += c.Size
	}
	if own != e.Size {
		return 0, fmt.Errorf("the members cover %d bytes of the %d-byte file", own, e.Size)
	}
	switch {
	case borrowed && (m.TGZSize != total || !manifest.IsSHA256Hex(m.TGZSHA256)):
		return 0, fmt.Errorf("tgz size %d and sha256 %.64q recorded for members of %d bytes", m.TGZSize, m.TGZSHA256, total)
	case !borrowed && (m.TGZSize != 0 || m.TGZSHA256 != ""):
		return 0, fmt.Errorf("tgz size and sha256 recorded for a file that holds every member")
	}
	return total, nil
}

// memberFile is the staged file holding s's member c.
func (s staged) memberFile(c cachedMember) string {
	if c.File != "" {
		return filepath.Join(filepath.Dir(s.entry.Path), c.File)
	}
	return s.entry.Path
}

// tgz reads s's tgz from its members, wherever they are staged.
func (s staged) tgz() io.ReadCloser {
	var rs []io.Reader
	var cs closers
	for _, c := range s.members {
		l := lazyfile.Section(s.memberFile(c), c.Offset, c.Size)
		rs, cs = append(rs, l), append(cs, l)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(rs...), cs}
}

type closers []io.Closer

func (cs closers) Close() error {
	for _, c := range cs {
		c.Close()
	}
	return nil
}
