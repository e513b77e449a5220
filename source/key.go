package source

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

// Key renders the key for d and checks it with ValidateKey.
func (k *KeyTemplate) Key(d KeyData) (string, error) {
	key, err := k.render(d)
	if err != nil {
		return "", err
	}
	if err := ValidateKey(key); err != nil {
		return "", fmt.Errorf("key template %q: %w", k.text, err)
	}
	return key, nil
}

// Regexp returns the S3 resource regexp that selects d's versions: the key
// with the version replaced by (.*) and everything else quoted, e.g.
// `ubuntu/ubuntu-(.*)\.tgz`.
func (k *KeyTemplate) Regexp(d KeyData) (string, error) {
	d.Version = versionMark
	key, err := k.render(d)
	if err != nil {
		return "", err
	}
	parts := strings.Split(key, versionMark)
	if len(parts) < 2 {
		return "", fmt.Errorf("key template %q does not contain {{.Version}}", k.text)
	}
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, "(.*)"), nil
}

func (k *KeyTemplate) render(d KeyData) (string, error) {
	var b bytes.Buffer
	if err := k.tmpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("key template %q: %w", k.text, err)
	}
	return b.String(), nil
}

// ValidateKey reports whether key is a clean relative S3 key that the S3
// resource can unpack and a bundle can carry: letters, digits and "._+-"
// in "/"-separated levels that are neither empty, "." nor "..", ending in
// ".tgz" or ".tar.gz". (The character set matches manifest.CheckName.)
func ValidateKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > 1024:
		return fmt.Errorf("key %.40q... is longer than 1024 bytes", key)
	case !strings.HasSuffix(key, ".tgz") && !strings.HasSuffix(key, ".tar.gz"):
		return fmt.Errorf("key %q must end in .tgz or .tar.gz", key)
	}
	if i := strings.IndexFunc(key, badKeyRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(key[i:])
		return fmt.Errorf("key %q has character %q; allowed are letters, digits and ._+-/", key, r)
	}
	for level := range strings.SplitSeq(key, "/") {
		if level == "" || level == "." || level == ".." {
			return fmt.Errorf("key %q has an empty, \".\" or \"..\" level; want a clean relative key", key)
		}
	}
	return nil
}

func badKeyRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("._+-/", r)
}
