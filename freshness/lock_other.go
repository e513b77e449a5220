//go:build !unix

package freshness

import (
	"errors"
	"time"
)

func lock(path string, timeout time.Duration) (func(), error) {
	return nil, errors.New("sequence state: locking is only supported on unix systems")
}
