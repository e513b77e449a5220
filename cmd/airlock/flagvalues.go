package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/source"
)

// Flag values parsed as the flags are read (pflag.Value), so a bad value is
// a usage error before any work starts.

// maxValidDays bounds --valid-for: a bundle valid for longer than ten
// years is no longer protected by its expiry (and the sum would overflow).
const maxValidDays = 3650

// validForValue is a duration that also takes days (30d, 1d12h).
type validForValue struct {
	text string
	d    time.Duration
}

func (v *validForValue) Set(s string) error {
	rest, days := s, 0
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > maxValidDays {
			return fmt.Errorf("%q: want a duration like 30d, 36h or 1d12h", s)
		}
		rest, days = s[i+1:], n
	}
	d := time.Duration(days) * 24 * time.Hour
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil {
			return fmt.Errorf("%q: want a duration like 30d, 36h or 1d12h", s)
		}
		d += more
	}
	if d > maxValidDays*24*time.Hour {
		return fmt.Errorf("%q: at most %dd", s, maxValidDays)
	}
	if d < time.Second {
		return fmt.Errorf("%q: a bundle must stay valid for at least a second", s)
	}
	v.text, v.d = s, d
	return nil
}

func (v *validForValue) String() string { return v.text }
func (v *validForValue) Type() string   { return "duration" }

// platformsValue is the repeatable --platform OS/ARCH[/VARIANT].
type platformsValue struct {
	specs []string
	list  []v1.Platform
}

func (v *platformsValue) Set(s string) error {
	list, err := source.ParsePlatforms(append(v.specs, s))
	if err != nil {
		return err
	}
	v.specs, v.list = append(v.specs, s), list
	return nil
}

func (v *platformsValue) String() string { return strings.Join(v.specs, ",") }
func (v *platformsValue) Type() string   { return "platform" }

// parseSize is the one size parser of every size flag (--part-size,
// --max-size): a number of bytes, a number with a unit (2GiB, 700MB, 4.5G;
// as go-humanize reads them), or a medium's preset (fat32, dvd, bd25).
func parseSize(s string) (uint64, error) {
	if n, ok := bundle.PartSizePreset(s); ok {
		return uint64(n), nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("want a size like 20GB or 500MiB, or a preset (%s)", bundle.PartSizePresets())
	}
	return n, nil
}

// partSizeValue is --part-size: a preset (fat32, dvd, bd25) or a size.
type partSizeValue struct {
	text  string
	bytes int64
}

func (v *partSizeValue) Set(s string) error {
	if strings.TrimSpace(s) == "" { // no split
		v.text, v.bytes = s, 0
		return nil
	}
	n, err := parseSize(s)
	switch {
	case err != nil:
		return err
	case n > math.MaxInt64:
		return fmt.Errorf("part size %q is too large", s)
	case n < bundle.MinPartSize:
		return fmt.Errorf("part size %q is below the minimum of %d bytes (one tar block)", s, bundle.MinPartSize)
	}
	v.text, v.bytes = s, int64(n)
	return nil
}

func (v *partSizeValue) String() string { return v.text }
func (v *partSizeValue) Type() string   { return "size" }

// optionalBool is a boolean flag that also tells whether it was given, for
// settings whose default depends on other flags (--path-style).
type optionalBool struct {
	set, value bool
}

func (v *optionalBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	v.set, v.value = true, b
	return nil
}

func (v *optionalBool) String() string {
	if !v.set {
		return ""
	}
	return strconv.FormatBool(v.value)
}

func (v *optionalBool) Type() string     { return "bool" }
func (v *optionalBool) IsBoolFlag() bool { return true }

// ptr returns the value when the flag was given, else nil.
func (v *optionalBool) ptr() *bool {
	if !v.set {
		return nil
	}
	b := v.value
	return &b
}

// byteSizeValue is a size like 20GB or 500MiB (--max-size); set tells
// whether it was given.
type byteSizeValue struct {
	text  string
	bytes uint64
	set   bool
}

func (v *byteSizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	v.text, v.bytes, v.set = s, n, true
	return nil
}

func (v *byteSizeValue) String() string { return v.text }
func (v *byteSizeValue) Type() string   { return "string" } // as before: help shows --max-size string

// choiceValue is a flag naming one of a few values, checked by parse
// (--concourse-style, --concourse-version); typ is what help calls it.
type choiceValue[T ~string] struct {
	v     T
	parse func(string) (T, error)
	typ   string
}

func (c *choiceValue[T]) Set(s string) error {
	v, err := c.parse(s)
	if err != nil {
		return err
	}
	c.v = v
	return nil
}

func (c *choiceValue[T]) String() string { return string(c.v) }
func (c *choiceValue[T]) Type() string   { return c.typ }

// compressionValue is --compression; unset means manifest.CompressionDefault.
type compressionValue struct{ c manifest.Compression }

func (v *compressionValue) Set(s string) error {
	c, err := manifest.ParseCompression(s)
	if err != nil {
		return errors.New("want one of " + manifest.CompressionNames())
	}
	v.c = c
	return nil
}

func (v *compressionValue) String() string { return string(v.c) }
func (v *compressionValue) Type() string   { return "string" } // help names it by the `level` in its usage

// value returns the chosen compression.
func (v *compressionValue) value() manifest.Compression { return v.c.OrDefault() }

// lintValue is --lint: error, warn (the default) or off.
type lintValue struct{ p source.LintPolicy }

func (v *lintValue) Set(s string) error {
	p, err := source.ParseLintPolicy(s)
	if err != nil {
		return errors.New("want error, warn or off")
	}
	v.p = p
	return nil
}

func (v *lintValue) String() string { return string(v.value()) }
func (v *lintValue) Type() string   { return "policy" }

// value returns the chosen policy.
func (v *lintValue) value() source.LintPolicy {
	if v.p == "" {
		return source.LintWarn
	}
	return v.p
}
