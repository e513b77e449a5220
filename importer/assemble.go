package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// members records where a format 2 bundle's members lie: in its tar
// stream, as the verifying pass meets them (docs/format-v2.md section 8),
// or, for a delta's have list, in objects of the bucket (section 10).
type members map[string]memberAt

type memberAt struct {
	offset, size int64
	key, etag    string // a have member: in the object at key (full key), as it was checked
}

// note records e's members when it is a member entry or a pack, and
// reports whether it was.
func (ms members) note(e *bundle.Entry) bool {
	switch {
	case strings.HasPrefix(e.Path, manifest.MembersFolder):
		ms[e.SHA256] = memberAt{offset: e.Offset, size: e.Size}
	case e.IsPack():
		off := e.Offset
		for i, name := range e.Members {
			if _, ok := ms[name]; !ok { // a whole pack may repeat a member: any copy is verified
				ms[name] = memberAt{offset: off, size: e.MemberSizes[i]}
			}
			off += e.MemberSizes[i]
		}
	default:
		return false
	}
	return true
}

// checkHave checks, before anything is uploaded, that the bucket holds
// every member a delta leaves out (rule 6 of section 11): each object
// present, long enough and with the recorded sha256 the receipt listed.
// It returns them, to be read with If-Match on the ETag seen here.
func checkHave(ctx context.Context, s *bucket.Store, m *manifest.Manifest, prefix string) (members, error) {
	ms := members{}
	stats := map[string]bucket.Object{}
	for _, h := range m.Have {
		key := prefix + h.Key
		obj, seen := stats[key]
		if !seen {
			var ok bool
			var err error
			if obj, ok, err = s.Stat(ctx, key); err != nil {
				return nil, err
			}
			if !ok {
				obj = bucket.Object{Size: -1}
			}
			stats[key] = obj
		}
		var why string
		switch {
		case obj.Size < 0:
			why = "object " + key + " is missing"
		case obj.Size < h.Offset+h.Length:
			why = fmt.Sprintf("object %s is %d bytes, shorter than the member's end at %d", key, obj.Size, h.Offset+h.Length)
		case obj.SHA256 != h.ObjectSHA256:
			why = fmt.Sprintf("object %s has recorded sha256 %q, the receipt the delta was cut against said %s", key, obj.SHA256, h.ObjectSHA256)
		}
		if why != "" {
			return nil, &verify.Error{Entry: usersOf(m, h.SHA256), Reason: fmt.Sprintf(
				"member %s is in the delta's have list, but the bucket %s does not hold it: %s; import the bundle that delivered it first, or export a full bundle (without --have) from a receipt of this bucket",
				h.SHA256, s.Bucket(), why)}
		}
		ms[h.SHA256] = memberAt{offset: h.Offset, size: h.Length, key: key, etag: obj.ETag}
	}
	return ms, nil
}

// usersOf names the images of m made with member name.
func usersOf(m *manifest.Manifest, name string) string {
	var paths []string
	for _, im := range m.Images {
		if slices.Contains(im.Members, name) {
			paths = append(paths, im.Path)
		}
	}
	return strings.Join(paths, ", ")
}

// assembly streams image object im, its members in order read back from
// the bundle's files, checking the whole against the signed size and
// sha256: a byte that changed on the media since the verifying pass makes
// the last Read fail, so the upload is aborted and nothing lands.
//
// Members that follow each other in the bundle, as a pack's do, are read
// as one section. Have members that follow each other in one object, as
// a delta's members of an unchanged stretch of a base do, are read with
// one ranged GET, each still hashed on its own.
func assembly(ctx context.Context, s *bucket.Store, r *bundle.Reader, ms members, im manifest.Entry) (io.Reader, error) {
	secs, err := sections(ms, im)
	if err != nil {
		return nil, err
	}
	parts := make([]io.Reader, len(secs))
	for i, sec := range secs {
		sec.ctx, sec.s, sec.r = ctx, s, r
		parts[i] = sec
	}
	return verify.NewReader(io.MultiReader(parts...), im.Size, im.SHA256, im.Path, nil), nil
}

// sections groups im's members into the reads that make its object.
func sections(ms members, im manifest.Entry) ([]*lazySection, error) {
	var secs []*lazySection
	var last *lazySection
	for i, name := range im.Members {
		at, ok := ms[name]
		if !ok {
			// Validate guarantees every member is an entry, and the
			// verifying pass read every entry: this is a bug, not input.
			return nil, &verify.Error{Entry: im.Path, Reason: fmt.Sprintf("member %d (%s) was not met while verifying the bundle", i, name)}
		}
		m := sectionMember{name: name, index: i, size: at.size}
		if last != nil && last.at.key == at.key && last.at.etag == at.etag && last.at.offset+last.at.size == at.offset {
			last.at.size += at.size
			last.more = append(last.more, m)
			continue
		}
		last = &lazySection{at: at, name: name, index: i, image: im.Path, more: []sectionMember{m}}
		secs = append(secs, last)
	}
	return secs, nil
}

// lazySection opens its member on first read, from the bundle or, for
// have members, from the bucket, and closes it at its end, so an image of
// thousands of members holds one file or response at a time. A section
// read from the bucket may hold several members that follow each other
// in the object (more); each is hashed on its own as it arrives.
type lazySection struct {
	ctx   context.Context
	s     *bucket.Store
	r     *bundle.Reader
	at    memberAt // with more than one member: their whole range
	name  string   // of the first member
	index int
	image string
	more  []sectionMember // every member of the section, in order
	rc    io.ReadCloser
	src   io.Reader
}

type sectionMember struct {
	name  string
	index int
	size  int64
}

func (l *lazySection) Read(p []byte) (int, error) {
	if l.src == nil {
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.src.Read(p)
	if err != nil {
		l.rc.Close()
	}
	return n, err
}

func (l *lazySection) open() error {
	if l.at.key == "" {
		l.rc = l.r.Section(l.at.offset, l.at.size)
		l.src = l.rc
		return nil
	}
	rc, err := l.s.OpenRange(l.ctx, l.at.key, l.at.offset, l.at.size, l.at.etag)
	if err != nil {
		what := fmt.Sprintf("member %d (%s)", l.index, l.name)
		if len(l.more) > 1 {
			what = fmt.Sprintf("members %d-%d (%s…)", l.index, l.more[len(l.more)-1].index, l.name[:12])
		}
		return fmt.Errorf("%s: reading %s from %s, bytes %d-%d: %w", l.image, what, l.at.key, l.at.offset, l.at.offset+l.at.size-1, err)
	}
	l.rc = rc
	where := func() string { return "object " + l.at.key }
	srcs := make([]io.Reader, len(l.more))
	for i, m := range l.more {
		srcs[i] = verify.NewReader(io.LimitReader(rc, m.size), m.size, m.name, l.image, where).WithNote(func() string {
			return fmt.Sprintf("member %d (%s), read from the bucket", m.index, m.name)
		})
	}
	l.src = io.MultiReader(srcs...)
	return nil
}

// blameMember names the member of im whose bytes no longer hash to its
// name, after its assembly failed the signed sha256: the members were
// verified while the bundle was read, so the media changed in between.
func blameMember(ctx context.Context, r *bundle.Reader, ms members, im manifest.Entry, err error) error {
	for i, name := range im.Members {
		if ctx.Err() != nil {
			break
		}
		at := ms[name]
		if at.key != "" {
			continue // checked as it arrived
		}
		rc := r.Section(at.offset, at.size)
		h := sha256.New()
		_, cerr := io.Copy(h, rc)
		rc.Close()
		if cerr != nil || hex.EncodeToString(h.Sum(nil)) != name {
			why := "its bytes no longer hash to its name"
			if cerr != nil {
				why = cerr.Error()
			}
			return &verify.Error{Entry: im.Path, Reason: fmt.Sprintf(
				"member %d (%s) changed on the bundle's media after it was verified (%s); nothing was uploaded under the key: check the media and import again", i, name, why)}
		}
	}
	return err
}
