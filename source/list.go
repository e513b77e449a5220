package source

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ParseList reads an image list: one request per line, either "REF" or
// "REF as NAME:VERSION" ("REF as NAME" overrides the name only), either
// optionally followed by "verify=PATH" (see Request.VerifyKey),
// "identity=REGEXP" and "issuer=URL" (see Request.Identity) and
// "lint=error|warn|off" (see Request.Lint), in any order. A "#"
// starts a comment that runs to the end of the line; blank lines are
// ignored. filename is used in error messages only.
//
// Every request is checked with Request.NameVersion, so invalid references, names and
// versions are reported here, each as "file:line: reason"; all bad lines
// are reported together.
func ParseList(r io.Reader, filename string) ([]Request, error) {
	var (
		reqs []Request
		errs []error
	)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		req, ok, err := parseLine(line)
		if err == nil && ok {
			req.File, req.Line = filename, n
			_, _, err = req.NameVersion()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", filename, n, err))
			continue
		}
		if ok {
			reqs = append(reqs, req)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("reading %s: %w", filename, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reqs, nil
}

// parseLine parses one list line; ok is false for blank and comment lines.
func parseLine(line string) (req Request, ok bool, err error) {
	line, _, _ = strings.Cut(line, "#")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Request{}, false, nil
	}
	req, err = parseSpec(fields)
	return req, err == nil, err
}

// FromArgs builds requests from command-line arguments. Each argument is a
// reference; an argument "as" followed by NAME:VERSION overrides the
// preceding reference, and a single argument may also hold the whole
// "REF as NAME:VERSION" form. Line holds the 1-based position of the
// reference argument. Requests are checked like ParseList's.
func FromArgs(args []string) ([]Request, error) {
	var (
		reqs []Request
		errs []error
	)
	for i := 0; i < len(args); {
		n, req, err := argRequest(args[i:])
		req.Line = i + 1
		if err == nil {
			_, _, err = req.NameVersion()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("argument %d: %w", i+1, err))
		} else {
			reqs = append(reqs, req)
		}
		i += n
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reqs, nil
}

// argRequest parses the request starting at args[0] and reports how many
// arguments it used.
func argRequest(args []string) (int, Request, error) {
	fields := strings.Fields(args[0])
	n := 1
	if len(fields) == 1 && len(args) > 1 && args[1] == "as" {
		fields = append(fields, "as")
		n = 2
		if len(args) > 2 {
			fields = append(fields, strings.Fields(args[2])...)
			n = 3
		}
	}
	if len(fields) == 0 {
		return n, Request{}, errors.New("empty image reference")
	}
	req, err := parseSpec(fields)
	return n, req, err
}
