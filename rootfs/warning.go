package rootfs

import "fmt"

// Warning reports an entry of a layer that Write left out because the
// flattened tree cannot hold it: its path lies beneath a symlink or another
// non-directory, or it is a non-directory where the tree already has a
// directory (docs/format.md section 7). The caller knows the image's name
// and adds it when showing the warning.
type Warning struct {
	Layer  int    // index of the layer, 0 for the bottom one
	Digest string // the layer's digest, when known
	Path   string // path in the image, relative to its root
	Reason string
}

func (w Warning) String() string {
	layer := fmt.Sprintf("layer %d", w.Layer)
	if w.Digest != "" {
		layer += " (" + w.Digest + ")"
	}
	return fmt.Sprintf("%s: /%s left out: %s", layer, w.Path, w.Reason)
}
