package imagetest

import (
	"math/rand/v2"
	"strings"
)

// words are what Text makes file bodies of.
var words = strings.Fields(`the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet
	consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua
	usr lib bin share include local etc var opt config json yaml index main func return error nil`)

// Text returns n bytes of words chosen by rng, spaces and newlines between
// them: a file body that compresses like source text.
func Text(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(" \n"[rng.IntN(8)/7])
	}
	return b.String()[:n]
}
