package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestBinaryEntries(t *testing.T) {
	sum := strings.Repeat("a", 64)
	bin := func(version, platform, path string) Entry {
		return Entry{Path: path, Size: 1, SHA256: sum, Binary: &Binary{Version: version, Platform: platform}}
	}
	good := []Entry{
		bin("v1.4.0", "linux/amd64", "airlock/v1.4.0/airlock-linux-amd64"),
		bin("0.9.1+abc", "darwin/arm64", "airlock/0.9.1+abc/airlock-darwin-arm64"),
		bin("dev", "windows/amd64", "airlock/dev/airlock-windows-amd64.exe"),
	}
	for _, e := range good {
		if err := (&Manifest{Format: FormatVersion, Entries: []Entry{e}}).Validate(); err != nil {
			t.Errorf("%s: %v", e.Path, err)
		}
	}
	withImage := bin("v1", "linux/amd64", "airlock/v1/airlock-linux-amd64")
	withImage.Image = &Image{}
	bad := map[string]Entry{
		"path not from version":     bin("v1.4.0", "linux/amd64", "airlock/v1.3.0/airlock-linux-amd64"),
		"windows without .exe":      bin("v1", "windows/amd64", "airlock/v1/airlock-windows-amd64"),
		"version with a slash":      bin("v1/x", "linux/amd64", "airlock/v1/x/airlock-linux-amd64"),
		"version starting with .":   bin(".v1", "linux/amd64", "airlock/.v1/airlock-linux-amd64"),
		"empty version":             bin("", "linux/amd64", "airlock//airlock-linux-amd64"),
		"platform without arch":     bin("v1", "linux", "airlock/v1/airlock-linux"),
		"platform in capitals":      bin("v1", "Linux/AMD64", "airlock/v1/airlock-Linux-AMD64"),
		"under airlock/, no binary": {Path: "airlock/v1/airlock-linux-amd64", Size: 1, SHA256: sum},
		"binary and image":          withImage,
	}
	for name, e := range bad {
		err := (&Manifest{Format: FormatVersion, Entries: []Entry{e}}).Validate()
		if !errors.As(err, new(*EntryError)) {
			t.Errorf("%s: Validate = %v, want an *EntryError", name, err)
		}
	}
}

func TestFormatErrorNamesTheTool(t *testing.T) {
	_, err := Parse([]byte(`{"format": 3, "tool": "airlock v9.0.0", "entries": []}`))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Format != 3 || !strings.Contains(err.Error(), "written by airlock v9.0.0") || !strings.Contains(err.Error(), "is not supported") {
		t.Errorf("Parse = %v", err)
	}
	_, err = Parse([]byte(`{"format": 3, "tool": "x\u001b[2Ky", "entries": []}`))
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("a hostile tool name reaches the message as it is: %q", err)
	}
}
