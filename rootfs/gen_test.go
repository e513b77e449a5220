package rootfs_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
)

// generated builds a compressible image of layers × filesPerLayer files of
// fileSize bytes each and returns it with its total content size.
func generated(t testing.TB, layers, filesPerLayer, fileSize int) (v1.Image, int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var all [][]imagetest.File
	var total int64
	for l := range layers {
		files := []imagetest.File{imagetest.Dir(fmt.Sprintf("layer%d", l), 0o755)}
		for f := range filesPerLayer {
			body := imagetest.Text(rng, fileSize)
			files = append(files, imagetest.File{Name: fmt.Sprintf("layer%d/file%04d.txt", l, f), Body: body})
			total += int64(fileSize)
		}
		all = append(all, files)
	}
	return imagetest.Image(t, all...), total
}
