package export_test

import (
	"context"
	"testing"

	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/manifest"
)

// TestFormat2NewImageReusesCachedBase: an image new to the staging cache,
// on the base of images taken from it, copies the base's members from
// their staged tgz rather than compressing them again, though no other
// image converted in the export holds the base (rootfs.LayerMemo.AddStaged).
func TestFormat2NewImageReusesCachedBase(t *testing.T) {
	s := newSetup(t, 0)
	sharedBase(t, s, 3)
	all := s.targets
	v2 := export.WithFormat(manifest.FormatV2)
	s.targets = all[:2]
	if _, err := s.run(context.Background(), "a", v2); err != nil {
		t.Fatal(err)
	}
	s.targets = all
	res, err := s.run(context.Background(), "b", v2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached != 2 || res.Converted != 1 {
		t.Fatalf("%d cached, %d converted; want 2 and 1", res.Cached, res.Converted)
	}
	// Every member of the new image that a cached image lists was
	// copied: the base's and the tail (the head differs).
	cached := map[string]bool{}
	var fresh []string
	for _, im := range res.Bundle.Manifest.Images {
		if im.Image.Key == all[2].Key {
			fresh = im.Members
			continue
		}
		for _, m := range im.Members {
			cached[m] = true
		}
	}
	var want int
	for _, m := range fresh {
		if cached[m] {
			want++
		}
	}
	t.Logf("%d of the new image's %d members copied from the cached images; %d are theirs", res.Reused, len(fresh), want)
	if want < 3 || res.Reused != want {
		t.Errorf("%d members copied, want the %d the cached images' staged tgz hold", res.Reused, want)
	}
	openVerified(t, res, s.trusted)
}
