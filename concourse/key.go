package concourse

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"
)

// Default key templates. With one platform a key is NAME/NAME-VERSION.tgz,
// the layout Concourse's S3 resource expects; with several, a platform
// level keeps the keys apart while the regexp NAME/OS-ARCH/NAME-(.*).tgz
// still selects one platform's versions.
const (
	DefaultKeyTemplate       = "{{.Name}}/{{.Name}}-{{.Version}}.tgz"
	MultiPlatformKeyTemplate = "{{.Name}}/{{.OS}}-{{.Arch}}{{if .Variant}}-{{.Variant}}{{end}}/{{.Name}}-{{.Version}}.tgz"
)

// KeyData is what a key template can use.
type KeyData struct {
	Name, Version     string
	OS, Arch, Variant string
	Platform          string // e.g. "linux/arm64/v8"
}

// KeyTemplate renders S3 keys from a text/template over KeyData.
type KeyTemplate struct {
	text string
	tmpl *template.Template
}

// versionMark stands in for the version when deriving a regexp; it cannot
// occur in a real key.
const versionMark = "\x00version\x00"

// ParseKeyTemplate parses a key template and checks it on sample data: it
// must use every field it names correctly and must contain {{.Version}},
// which the S3 resource's regexp captures.
func ParseKeyTemplate(text string) (*KeyTemplate, error) {
	t, err := template.New("key").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing key template %q: %w", text, err)
	}
	k := &KeyTemplate{text: text, tmpl: t}
	sample := KeyData{Name: "name", Version: "1.0", OS: "linux", Arch: "amd64", Platform: "linux/amd64"}
	if _, err := k.Key(sample); err != nil {
		return nil, err
	}
	if _, err := k.Regexp(sample); err != nil {
		return nil, err
	}
	return k, nil
}

// String returns the template text.
func (k *KeyTemplate) String() string { return k.text }

// Key renders the key for d and checks it with ValidateKey and
// CheckKeyFolder.
func (k *KeyTemplate) Key(d KeyData) (string, error) {
	key, err := k.render(d)
	if err != nil {
		return "", err
	}
	if err := ValidateKey(key); err != nil {
		return "", fmt.Errorf("key template %q: %w", k.text, err)
	}
	if err := CheckKeyFolder(key, d.Name); err != nil {
		return "", fmt.Errorf("key template %q: %w; start it with {{.Name}}/", k.text, err)
	}
	return key, nil
}

// Regexp returns the S3 resource regexp that selects d's versions: the key
// with every {{.Version}} replaced by (.*) and everything else quoted, e.g.
// `ubuntu/ubuntu-(.*)\.tgz`. It checks with CheckRegexp that the regexp
// finds exactly d.Version in d's key.
func (k *KeyTemplate) Regexp(d KeyData) (string, error) {
	marked := d
	marked.Version = versionMark
	mkey, err := k.render(marked)
	if err != nil {
		return "", err
	}
	parts := strings.Split(mkey, versionMark)
	if len(parts) < 2 {
		return "", fmt.Errorf("key template %q does not contain {{.Version}}", k.text)
	}
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := strings.Join(parts, "(.*)")
	key, err := k.Key(d)
	if err != nil {
		return "", err
	}
	if err := CheckRegexp(re, key, d.Version); err != nil {
		return "", fmt.Errorf("key template %q: %w", k.text, err)
	}
	return re, nil
}

func (k *KeyTemplate) render(d KeyData) (string, error) {
	var b bytes.Buffer
	if err := k.tmpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("key template %q: %w", k.text, err)
	}
	return b.String(), nil
}

// MaxKeyLen bounds keys.
const MaxKeyLen = 1024

// ValidateKey reports whether key is a clean relative S3 key that the S3
// resource can unpack and a bundle can carry: IsKeyRune characters in
// "/"-separated levels that are neither empty, "." nor "..", none starting
// with "." (that keeps keys out of the record area .airlock/ and away from
// hidden names), ending in ".tgz" or ".tar.gz".
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > MaxKeyLen:
		return fmt.Errorf("key %.40q... is longer than %d bytes", key, MaxKeyLen)
	case !strings.HasSuffix(key, ".tgz") && !strings.HasSuffix(key, ".tar.gz"):
		return fmt.Errorf("key %q must end in .tgz or .tar.gz", key)
	}
	if i := strings.IndexFunc(key, func(r rune) bool { return !IsKeyRune(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(key[i:])
		return fmt.Errorf("key %q has character %q; allowed are letters, digits and %s", key, r, keyPunct)
	}
	for level := range strings.SplitSeq(key, "/") {
		if level == "" || level == "." || level == ".." {
			return fmt.Errorf("key %q has an empty, \".\" or \"..\" level; want a clean relative key", key)
		}
	}
	for level := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(level, ".") {
			return fmt.Errorf("key %q has a level starting with \".\" (%s); such keys are reserved, e.g. for the record area .airlock/", key, level)
		}
	}
	return nil
}

// keyPunct is the punctuation allowed in keys and bundle entry names.
const keyPunct = "._+-/"

// IsKeyRune reports whether r may appear in an S3 key or a bundle entry
// name: ASCII letters, digits and "._+-/". It is the one definition of
// that character set.
func IsKeyRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune(keyPunct, r)
}

// CheckKeyFolder reports whether key lies in its image's folder: its first
// level is name, so one image series never shares a folder with another.
func CheckKeyFolder(key, name string) error {
	first, _, ok := strings.Cut(key, "/")
	if !ok || first != name {
		return fmt.Errorf("key %q is not inside the folder %s/ of image %s", key, name, name)
	}
	return nil
}
