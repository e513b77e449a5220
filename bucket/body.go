package bucket

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/airlockhq/airlock/verify"
)

// checkedBody passes an upload's body through, hashing and counting it, and
// turns its end into a verdict: io.EOF only when exactly size bytes hashed
// to want, else a *verify.Error. It reads the body up to its own io.EOF, so
// an error the body reports after its last byte (a caller's verifying
// reader) still fails the upload. err keeps the first failure.
type checkedBody struct {
	r    io.Reader
	key  string
	size int64
	want string
	n    int64
	h    hash.Hash
	err  error // first failure, from the body or the verdict
	done bool
}

// newCheckedBody hashes what it passes through unless trusted, when the
// body verifies itself and only the byte count is checked here.
func newCheckedBody(r io.Reader, key string, size int64, want string, trusted bool) *checkedBody {
	c := &checkedBody{r: r, key: key, size: size, want: want}
	if !trusted {
		c.h = sha256.New()
	}
	return c
}

func (c *checkedBody) Read(p []byte) (int, error) {
	if c.done {
		return 0, c.verdict()
	}
	n, err := c.r.Read(p)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	c.n += int64(n)
	switch {
	case c.n > c.size:
		c.fail(&verify.Error{Entry: c.key, Reason: fmt.Sprintf("data is longer than %d bytes", c.size)})
	case err == io.EOF:
		c.finish()
	case err != nil:
		c.fail(err)
	}
	if c.done {
		return n, c.verdict()
	}
	return n, nil
}

func (c *checkedBody) finish() {
	c.done = true
	if c.n < c.size {
		c.fail(&verify.Error{Entry: c.key, Reason: fmt.Sprintf("data ends after %d of %d bytes", c.n, c.size)})
	} else if c.h == nil {
		return
	} else if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want {
		c.fail(&verify.Error{Entry: c.key, Reason: fmt.Sprintf("sha256 is %s, the signed manifest says %s", got, c.want)})
	}
}

func (c *checkedBody) fail(err error) {
	c.done = true
	if c.err == nil {
		c.err = err
	}
}

func (c *checkedBody) verdict() error {
	if c.err != nil {
		return c.err
	}
	return io.EOF
}
