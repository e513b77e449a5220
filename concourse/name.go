package concourse

import (
	"errors"
	"fmt"
	"regexp"
)

// nameRE is a NAME that is safe as one S3 key level and in a regexp.
var nameRE = regexp.MustCompile(`\A[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?\z`)

// ValidateName reports whether n can be a NAME: lowercase letters, digits
// and ".", "_", "-", starting and ending with a letter or digit, so it is
// one clean S3 key level.
func ValidateName(n string) error {
	switch {
	case n == "":
		return errors.New("empty name")
	case len(n) > MaxLen:
		return fmt.Errorf("name %.20q... is longer than %d characters", n, MaxLen)
	case !nameRE.MatchString(n):
		return fmt.Errorf("invalid name %q: use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit", n)
	}
	return nil
}
