package manifest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airlockhq/airlock/concourse"
)

// FormatVersion is the bundle format writers use unless told otherwise.
const FormatVersion = FormatV1

// ReadFormats are the bundle formats this package reads.
var ReadFormats = []int{FormatV1, FormatV2}

// MaxManifestSize bounds the manifest.json a reader accepts.
const MaxManifestSize = 64 << 20

// Manifest is manifest.json.
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	Signer  string    `json:"signer"`         // key id of the signing key
	Tool    string    `json:"tool,omitempty"` // the program that wrote the bundle
	Entries []Entry   `json:"entries"`        // every payload entry, in stream order
	// Images are format 2's image objects, sorted by key: each tgz,
	// assembled from member entries (docs/format-v2.md section 6).
	Images []Entry `json:"images,omitempty"`
	// Have are the members a format 2 delta uses but does not carry: the
	// bucket it is imported into holds them (docs/format-v2.md section 10).
	Have []Have `json:"have,omitempty"`
	// Base is what a delta bundle was cut against; nil for a full bundle.
	Base *Base `json:"base,omitempty"`
	// Freshness is the bundle's channel, sequence and expiry; nil in
	// bundles written before it existed.
	Freshness *Freshness `json:"freshness,omitempty"`
}

// Entry is one payload entry of the bundle.
type Entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Image  *Image `json:"image,omitempty"` // set when the entry is a rootfs tgz
	// Binary is set when the entry is a carried airlock binary.
	Binary *Binary `json:"binary,omitempty"`

	// Format 2 image objects only (docs/format-v2.md section 6).
	TarSize int64    `json:"tar_size,omitempty"` // the uncompressed tar stream's size
	Members []string `json:"members,omitempty"`  // the tgz's member names, in order
	// MemberIndex is Members as positions in the member table
	// (MemberTable); Parse expands it into Members, and Marshal writes it
	// instead of Members when set.
	MemberIndex []int  `json:"member_index,omitempty"`
	Recipe      string `json:"recipe,omitempty"` // the recipe entry's path
	// MemberSizes are the sizes of a pack's Members (a pack is an entry
	// holding members one after the other; docs/format-v2.md section 6).
	MemberSizes []int64 `json:"member_sizes,omitempty"`
}

// Image describes a rootfs tgz: where it came from and where it goes.
type Image struct {
	Source       string             `json:"source"`                 // the reference as requested
	Digest       string             `json:"digest"`                 // image manifest digest
	IndexDigest  string             `json:"index_digest,omitempty"` // when resolved through an index
	Platform     string             `json:"platform"`               // os/arch[/variant]
	Name         string             `json:"name"`
	Version      string             `json:"version"`
	Key          string             `json:"key"`              // intended S3 key, relative to the import prefix
	Regexp       string             `json:"regexp,omitempty"` // S3 resource regexp of the series, relative to the import prefix
	RootfsFormat int                `json:"rootfs_format"`
	Compression  Compression        `json:"compression,omitempty"` // how hard the tgz was compressed; empty (before it was recorded) means CompressionDefault
	Metadata     concourse.Metadata `json:"metadata"`              // the image's Concourse metadata.json
	// Signature records the upstream signature check made at export.
	Signature *Signature `json:"signature,omitempty"`
	// Lint is what the exporter's lint found; nil when not checked.
	Lint *Lint `json:"lint,omitempty"`
}

// Marshal renders m as it is stored in a bundle.
func (m *Manifest) Marshal() ([]byte, error) {
	if slices.ContainsFunc(m.Images, func(e Entry) bool { return e.MemberIndex != nil }) {
		c := *m
		c.Images = slices.Clone(m.Images)
		for i := range c.Images {
			if c.Images[i].MemberIndex != nil {
				c.Images[i].Members = nil
			}
		}
		m = &c
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Parse decodes manifest.json and checks it with Validate.
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if m.Format != FormatV1 && m.Format != FormatV2 {
		return nil, &FormatError{Format: m.Format, Tool: m.Tool}
	}
	if err := m.expandMembers(); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	return &m, nil
}

// FormatError is a manifest of a format this package does not read: a
// bundle written by a newer airlock.
type FormatError struct {
	Format int    // the bundle's format
	Tool   string // what wrote it, as it says; may be empty
}

func (e *FormatError) Error() string {
	msg := fmt.Sprintf("%s: format %d is not supported (this airlock reads formats %d and %d)", ManifestName, e.Format, FormatV1, FormatV2)
	if t := quoteTool(e.Tool); t != "" {
		msg += "; the bundle was written by " + t
	}
	return msg
}

// quoteTool renders a tool name from an unverified manifest for a message:
// at most 64 bytes, quoted when it is not plain printable ASCII.
func quoteTool(t string) string {
	if len(t) > 64 {
		t = t[:64] + "..."
	}
	if strings.IndexFunc(t, func(r rune) bool { return r <= ' ' && r != ' ' || r > '~' || r == '"' }) >= 0 {
		return strconv.QuoteToASCII(t)
	}
	return t
}

func isReserved(name string) bool {
	return name == SumsName || name == SigName || name == ManifestName || name == HeadPadName
}

// Sums returns the SHA256SUMS lines for m: manifest.json first, then every
// entry in order.
func (m *Manifest) Sums(manifestSHA256 string) []Sum {
	sums := []Sum{{Name: ManifestName, SHA256: manifestSHA256}}
	for _, e := range m.Entries {
		sums = append(sums, Sum{Name: e.Path, SHA256: e.SHA256})
	}
	return sums
}

// CheckAgainst verifies that the signed sums list exactly the manifest and
// its entries with the same checksums: nothing more, nothing less.
func (m *Manifest) CheckAgainst(sums []Sum, manifestSHA256 string) error {
	want := m.Sums(manifestSHA256)
	byName := make(map[string]string, len(sums))
	for _, s := range sums {
		byName[s.Name] = s.SHA256
	}
	for _, w := range want {
		got, ok := byName[w.Name]
		if !ok {
			return fmt.Errorf("%s lists %s but %s does not", ManifestName, w.Name, SumsName)
		}
		if got != w.SHA256 {
			return fmt.Errorf("%s and %s disagree on the checksum of %s", ManifestName, SumsName, w.Name)
		}
		delete(byName, w.Name)
	}
	for name := range byName {
		return fmt.Errorf("%s lists %s but %s does not", SumsName, name, ManifestName)
	}
	return nil
}
