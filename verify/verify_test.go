package verify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/keys"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestReader(t *testing.T) {
	part := func() string { return "b.tar.002" }
	tests := []struct {
		name, data string
		size       int64
		want       string
		fails      string
	}{
		{"match", "hello", 5, sum("hello"), ""},
		{"changed", "hellO", 5, sum("hello"), "sha256 is"},
		{"short", "hell", 5, sum("hello"), "data ends after 4 of 5 bytes"},
		{"only size bytes are read", "hello, and more", 5, sum("hello"), ""},
	}
	for _, tt := range tests {
		r := NewReader(strings.NewReader(tt.data), tt.size, tt.want, "images/a.tgz", part)
		got, err := io.ReadAll(r)
		if tt.fails == "" {
			if err != nil || string(got) != tt.data[:tt.size] {
				t.Errorf("%s: read %q, %v", tt.name, got, err)
			}
			continue
		}
		var ve *Error
		if !errors.As(err, &ve) || ve.Entry != "images/a.tgz" || ve.Part != "b.tar.002" || !strings.Contains(err.Error(), tt.fails) {
			t.Errorf("%s: err = %v, want a failure naming entry and part and %q", tt.name, err, tt.fails)
		}
		if _, again := r.Read(make([]byte, 1)); again != err {
			t.Errorf("%s: read after a failure gave %v, want the same failure", tt.name, again)
		}
	}
}

func TestSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	trusted := []keys.Public{{Key: other, ID: keys.ID(other)}, {Key: pub, ID: keys.ID(pub)}}
	msg := []byte("abc  x\n")
	sig := Sign(priv, msg)
	if k, err := Signature(msg, sig, trusted); err != nil || k.ID != keys.ID(pub) {
		t.Fatalf("good signature: %v, %v", k.ID, err)
	}
	if _, err := Signature([]byte("abd  x\n"), sig, trusted); !IsFailure(err) {
		t.Errorf("changed message: %v", err)
	}
	if _, err := Signature(msg, sig, trusted[:1]); !IsFailure(err) || !strings.Contains(err.Error(), keys.ID(other)) {
		t.Errorf("unknown signer: %v", err)
	}
	if _, err := Signature(msg, sig[:10], trusted); !IsFailure(err) || !strings.Contains(err.Error(), "10 bytes") {
		t.Errorf("short signature: %v", err)
	}
}
