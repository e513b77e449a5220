package importer

import "github.com/airlockhq/airlock/freshness"

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	Planned  EventKind = "planned"  // Action says what will happen to Key
	Uploaded EventKind = "uploaded" // Key is in the bucket, complete and verified
	Progress EventKind = "progress" // Bytes more bytes of Key were uploaded
	Recorded EventKind = "recorded" // the bundle's signed manifest is stored at Key
	// Series says where Key's version lands in its series (Series): what
	// the S3 resource picks once the import is done.
	Series EventKind = "series"
	// BaseMissing: Key, an object of the delta's base, is not in the
	// bucket as the base records it (Reason says how); reported instead of
	// a *BaseError when WithAllowMissingBase allows it.
	BaseMissing EventKind = "base_missing"
	// Freshness is the freshness verdict on the bundle (Freshness), before
	// any upload; Reason warns of a bundle without freshness.
	Freshness EventKind = "freshness"
	// Accepted: the channel state at Key now names the bundle.
	Accepted EventKind = "accepted"
)

// Action is what import does with one image.
type Action string

// Actions.
const (
	Upload  Action = "upload"
	Skip    Action = "skip"    // already there with the same checksum
	Replace Action = "replace" // there with another checksum, and overwriting was allowed
)

// Event is one step of an import. Only the fields that fit the kind are set.
type Event struct {
	Kind   EventKind     `json:"event"`
	Key    string        `json:"key,omitempty"`
	Entry  string        `json:"entry,omitempty"`
	Action Action        `json:"action,omitempty"`
	Size   int64         `json:"size,omitempty"`
	Bytes  int64         `json:"bytes,omitempty"`
	Series *SeriesReport `json:"series,omitempty"`
	Reason string        `json:"reason,omitempty"`

	Freshness *freshness.Verdict `json:"freshness,omitempty"`
}
