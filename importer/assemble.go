package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// members records where a format 2 bundle's members lie in its tar stream,
// as the verifying pass meets them (docs/format-v2.md section 8).
type members map[string]memberAt

type memberAt struct{ offset, size int64 }

// note records e when it is a member entry, and reports whether it was.
func (ms members) note(e *bundle.Entry) bool {
	if !strings.HasPrefix(e.Path, manifest.MembersFolder) {
		return false
	}
	ms[e.SHA256] = memberAt{e.Offset, e.Size}
	return true
}

// assembly streams image object im, its members in order read back from
// the bundle's files, checking the whole against the signed size and
// sha256: a byte that changed on the media since the verifying pass makes
// the last Read fail, so the upload is aborted and nothing lands.
func assembly(r *bundle.Reader, ms members, im manifest.Entry) (io.Reader, error) {
	parts := make([]io.Reader, len(im.Members))
	for i, name := range im.Members {
		at, ok := ms[name]
		if !ok {
			// Validate guarantees every member is an entry, and the
			// verifying pass read every entry: this is a bug, not input.
			return nil, &verify.Error{Entry: im.Path, Reason: fmt.Sprintf("member %d (%s) was not met while verifying the bundle", i, name)}
		}
		parts[i] = &lazySection{r: r, at: at}
	}
	return verify.NewReader(io.MultiReader(parts...), im.Size, im.SHA256, im.Path, nil), nil
}

// lazySection opens its part of the bundle on first read and closes it at
// its end, so an image of thousands of members holds one file at a time.
type lazySection struct {
	r  *bundle.Reader
	at memberAt
	rc io.ReadCloser
}

func (s *lazySection) Read(p []byte) (int, error) {
	if s.rc == nil {
		s.rc = s.r.Section(s.at.offset, s.at.size)
	}
	n, err := s.rc.Read(p)
	if err != nil {
		s.rc.Close()
	}
	return n, err
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
