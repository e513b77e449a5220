package export

// EventKind says what an Event reports.
type EventKind string

// Event kinds, in the order an export emits them.
const (
	Warned    EventKind = "warning"    // Message explains a naming or signature problem worth fixing
	Started   EventKind = "converting" // conversion of Key began
	Progress  EventKind = "progress"   // Bytes more uncompressed bytes of Key were converted
	Converted EventKind = "converted"  // Key was converted; Size is the tgz size
	Cached    EventKind = "cached"     // Key was found in the staging cache; Size is the tgz size
	Evicted   EventKind = "evicted"    // Key's cached tgz was damaged and removed; Message says so, a conversion follows
	Writing   EventKind = "writing"    // the bundle is being written; Total is its payload size, 0 when written while converting (format 2)
	Written   EventKind = "written"    // Bytes more payload bytes were written to the bundle
)

// SignatureChecked reports that Key's upstream signature verified, before
// any conversion; Digest is the signed digest, Message names the keys.
const SignatureChecked EventKind = "signature"

// Event is one step of an export. Only the fields that fit the kind are set.
type Event struct {
	Kind    EventKind `json:"event"`
	Key     string    `json:"key,omitempty"`
	Source  string    `json:"source,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	Bytes   int64     `json:"bytes,omitempty"`
	Size    int64     `json:"size,omitempty"`
	Total   int64     `json:"total,omitempty"`
	Message string    `json:"message,omitempty"`
	// Set on Linted only.
	Platform string `json:"platform,omitempty"`
	Check    string `json:"check,omitempty"`
	Severity string `json:"severity,omitempty"`
	Path     string `json:"path,omitempty"`
}
