package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/airlockhq/airlock/manifest"

	"github.com/airlockhq/airlock/source"
)

// Why a target is shipped or skipped.
const (
	Present   = "present"  // skipped: the key holds this digest and platform
	New       = "new"      // shipped: the receipt does not list the key
	Retagged  = "retagged" // shipped: the same image is there under another key
	Repairing = "left out" // shipped: the receipt lists the key as missing, drifted or unverified
)

// Decision is what Delta decided for one target.
type Decision struct {
	Target source.Target
	Ship   bool
	Reason string // Present, New, Retagged or Repairing
	// Have is the receipt's entry the decision rests on: the image at the
	// key (Present, Repairing), or the same image under another key
	// (Retagged); nil for New.
	Have *Image
	// Detail says why a left-out image was left out.
	Detail string
}

// Plan is the outcome of Delta, one decision per target in target order.
type Plan struct {
	Receipt   *Receipt
	Decisions []Decision
	Saved     int64 // tgz bytes of the skipped images, as the receipt records them
}

// Ship returns the targets to ship, in target order.
func (p *Plan) Ship() []source.Target {
	var ts []source.Target
	for _, d := range p.Decisions {
		if d.Ship {
			ts = append(ts, d.Target)
		}
	}
	return ts
}

// Base is what the delta is cut against, for the bundle's manifest
// (docs/format.md section 5, Delta base): every skipped image as the
// receipt records it, in key order, with the receipt's bucket, prefix and
// time, and its signer only when its signature was checked. It is nil when
// nothing is skipped: the bundle is then complete by itself.
func (p *Plan) Base() *manifest.Base {
	var objs []manifest.BaseObject
	for _, d := range p.Decisions {
		if !d.Ship {
			objs = append(objs, manifest.BaseObject{Key: d.Have.Key, Size: d.Have.Size, SHA256: d.Have.SHA256})
		}
	}
	if len(objs) == 0 {
		return nil
	}
	slices.SortFunc(objs, func(a, b manifest.BaseObject) int { return strings.Compare(a.Key, b.Key) })
	r := p.Receipt
	b := &manifest.Base{Bucket: r.Bucket, Prefix: r.Prefix, Created: r.Created.UTC(), Objects: objs}
	if r.SignedBy != nil {
		b.Signer = r.SignedBy.ID
	}
	return b
}

// Skipped counts the targets left out.
func (p *Plan) Skipped() int { return len(p.Decisions) - len(p.Ship()) }

// Move is a key the bucket holds with another image than its target now
// resolves to: a moved tag.
type Move struct {
	Key      string
	Source   string // the reference as requested
	Have     Image  // in the bucket, per the receipt
	Digest   string // the target's digest
	Platform string // the target's platform
}

// MovedError lists the targets whose key holds another image on the other
// side. Importing them would be refused (the key holds other content), so
// Delta refuses them before anything is pulled.
type MovedError struct {
	Bucket, Prefix string
	Moves          []Move
}

func (e *MovedError) Error() string {
	lines := make([]string, len(e.Moves))
	for i, m := range e.Moves {
		lines[i] = fmt.Sprintf("key %s holds %s (%s, bundle %s) in bucket %s, but %s now resolves to %s (%s)",
			e.Prefix+m.Key, m.Have.Digest, m.Have.Platform, m.Have.Bundle, e.Bucket, m.Source, m.Digest, m.Platform)
	}
	return fmt.Sprintf("%d moved tag(s): %s", len(e.Moves), strings.Join(lines, "; "))
}

// PrefixError is a receipt made under another import prefix than the one
// the delivery is for: its keys are relative to the other prefix.
type PrefixError struct {
	Bucket       string
	Have, Wanted string
}

func (e *PrefixError) Error() string {
	return fmt.Sprintf("the receipt lists bucket %s under prefix %q, but this delivery is for prefix %q; its keys do not apply",
		e.Bucket, e.Have, e.Wanted)
}

// Delta decides, for each resolved target, whether the other side needs it:
// a target whose key the receipt lists with the same digest and platform is
// skipped; any other is shipped. A key the receipt lists intact with
// another digest or platform (a moved tag) fails the whole plan with a
// *MovedError. prefix is the import prefix the delivery is for; a receipt
// made under another one is a *PrefixError.
func Delta(r *Receipt, targets []source.Target, prefix string) (*Plan, error) {
	if r.Prefix != prefix {
		return nil, &PrefixError{Bucket: r.Bucket, Have: r.Prefix, Wanted: prefix}
	}
	byKey := map[string]*Image{}
	byImage := map[string]*Image{}
	for i := range r.Images {
		im := &r.Images[i]
		byKey[im.Key] = im
		if _, ok := byImage[im.Digest+" "+im.Platform]; !ok {
			byImage[im.Digest+" "+im.Platform] = im
		}
	}
	left := map[string]*LeftOut{}
	for i := range r.LeftOut {
		left[r.LeftOut[i].Key] = &r.LeftOut[i]
	}
	p := &Plan{Receipt: r}
	var moves []Move
	for _, t := range targets {
		digest, platform := t.Digest.String(), t.Platform.String()
		d := Decision{Target: t, Ship: true, Reason: New}
		if have, ok := byKey[t.Key]; ok {
			if have.Digest != digest || have.Platform != platform {
				moves = append(moves, Move{Key: t.Key, Source: t.Request.Ref, Have: *have, Digest: digest, Platform: platform})
				continue
			}
			d.Ship, d.Reason, d.Have = false, Present, have
			p.Saved += have.Size
		} else if l, ok := left[t.Key]; ok {
			d.Reason, d.Have, d.Detail = Repairing, &l.Image, l.Reason+": "+l.Detail
		} else if other, ok := byImage[digest+" "+platform]; ok {
			d.Reason, d.Have = Retagged, other
		}
		p.Decisions = append(p.Decisions, d)
	}
	if len(moves) > 0 {
		return nil, &MovedError{Bucket: r.Bucket, Prefix: r.Prefix, Moves: moves}
	}
	return p, nil
}

// HeldMembers are the gzip members the receipt's images hold, by name, as
// a format 2 delta refers to them (docs/format-v2.md section 10): from the
// receipt's table, and from its images' own lists (receipts of earlier
// versions), where the object with the smallest key wins.
func (r *Receipt) HeldMembers() map[string]manifest.Have {
	held := map[string]manifest.Have{}
	objects := map[string]string{}
	for _, im := range r.Images {
		objects[im.Key] = im.SHA256
	}
	for _, m := range r.Members {
		held[m.SHA256] = manifest.Have{SHA256: m.SHA256, Key: m.Key, Offset: m.Offset, Length: m.Length, ObjectSHA256: objects[m.Key]}
	}
	for _, im := range r.Images { // in key order: the first holder wins
		for _, m := range im.Members {
			if _, ok := held[m.SHA256]; !ok {
				held[m.SHA256] = manifest.Have{SHA256: m.SHA256, Key: im.Key, Offset: m.Offset, Length: m.Length, ObjectSHA256: im.SHA256}
			}
		}
	}
	return held
}
