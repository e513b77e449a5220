package importer

import (
	"context"
	"strings"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/concourse"
)

// SeriesReport says what the S3 resource will pick in one image series
// once the import is done: whether Version becomes the newest version of
// the series, and which version is the newest there now.
type SeriesReport struct {
	Regexp  string   `json:"regexp"`            // the series' S3 resource regexp, with the prefix
	Key     string   `json:"key"`               // the imported key
	Version string   `json:"version"`           // the imported version
	Newest  bool     `json:"newest"`            // Version is the one the resource picks after the import
	Current string   `json:"current,omitempty"` // the newest version in the bucket before the import; "" when the series is new
	Invalid []string `json:"invalid,omitempty"` // keys in the series whose version the resource cannot parse (it fails on them)
}

// series reports, for each image of the bundle, where its version lands
// among the versions already in the bucket and in the bundle, ordered as
// the S3 resource orders them (concourse.Version). It lists each series'
// folder NAME/ once.
func series(ctx context.Context, s *bucket.Store, r *bundle.Reader, prefix string) ([]SeriesReport, error) {
	type image struct{ key, version, re string }
	var images []image
	for _, e := range r.Manifest.ImageObjects() {
		re, err := e.Image.SeriesRegexp()
		if err != nil {
			return nil, err
		}
		images = append(images, image{prefix + e.Image.Key, e.Image.Version, concourse.FullRegexp(prefix, re)})
	}
	listed := map[string][]bucket.Object{}
	var out []SeriesReport
	for _, im := range images {
		levels, err := concourse.CompileLevels(im.re)
		if err != nil {
			return nil, err
		}
		folder, _, _ := strings.Cut(strings.TrimPrefix(im.key, prefix), "/")
		folder = prefix + folder + "/"
		objs, ok := listed[folder]
		if !ok {
			if objs, err = s.List(ctx, folder); err != nil {
				return nil, err
			}
			listed[folder] = objs
		}
		rep := SeriesReport{Regexp: im.re, Key: im.key, Version: im.version, Newest: true}
		mine, err := concourse.ParseVersion(im.version)
		if err != nil {
			return nil, err
		}
		var current *concourse.Version
		for _, o := range objs {
			v, ok := levels.Match(o.Key)
			if !ok || o.Key == im.key {
				continue
			}
			p, err := concourse.ParseVersion(v)
			if err != nil {
				rep.Invalid = append(rep.Invalid, o.Key)
				continue
			}
			if current == nil || p.Compare(*current) > 0 {
				current = &p
			}
		}
		if current != nil {
			rep.Current = current.String()
			rep.Newest = mine.Compare(*current) >= 0
		}
		for _, other := range images {
			if other.key == im.key {
				continue
			}
			if v, ok := levels.Match(other.key); ok {
				if p, err := concourse.ParseVersion(v); err == nil && p.Compare(mine) > 0 {
					rep.Newest = false
				}
			}
		}
		out = append(out, rep)
	}
	return out, nil
}
