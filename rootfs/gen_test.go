package rootfs_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/internal/imagetest"
)

var words = strings.Fields(`the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet
	consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua
	usr lib bin share include local etc var opt config json yaml index main func return error nil`)

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
			var b strings.Builder
			for b.Len() < fileSize {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(" \n"[rng.IntN(8)/7])
			}
			body := b.String()[:fileSize]
			files = append(files, imagetest.File{Name: fmt.Sprintf("layer%d/file%04d.txt", l, f), Body: body})
			total += int64(fileSize)
		}
		all = append(all, files)
	}
	return imagetest.Image(t, all...), total
}
