package bundle

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/internal/hexdigits"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/verify"
)

// IndexFormat is the version of the part index written and read.
const IndexFormat = 1

// MaxShards is the most data plus parity parts Reed-Solomon over GF(2^8)
// supports.
const MaxShards = 256

// maxIndexSize bounds the part index a reader accepts.
const maxIndexSize = 1 << 20

// PartFile is one line of the part index.
type PartFile struct {
	Name   string // file name, without folder
	SHA256 string // lowercase hex
	Size   int64  // implied by the head, not written on the line
}

// Index is the signed list of every file of a split bundle: the data parts
// (the tar stream cut every PartSize bytes) and the Reed-Solomon parity
// parts over them. See docs/format.md, section 10.
type Index struct {
	Bundle     string // bundle id (see ID)
	Base       string // NAME in NAME.tar.001
	StreamSize int64
	PartSize   int64
	Data       []PartFile
	Parity     []PartFile
}

// ShardSize is the size of every parity part: the size of the first data
// part. Shorter data parts count as zero-padded to it.
func (x *Index) ShardSize() int64 { return min(x.PartSize, x.StreamSize) }

// Files lists the data parts, then the parity parts.
func (x *Index) Files() []PartFile {
	return append(append([]PartFile(nil), x.Data...), x.Parity...)
}

// Lookup finds a file of the index by name: its position in Files.
func (x *Index) Lookup(name string) (int, bool) {
	for i, f := range x.Files() {
		if f.Name == name {
			return i, true
		}
	}
	return -1, false
}

// Marshal renders the index: a head of comment lines that sha256sum
// ignores, then coreutils "HEX  NAME" lines.
func (x *Index) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# airlock part index %d\n", IndexFormat)
	fmt.Fprintf(&b, "# bundle %s\n", x.Bundle)
	fmt.Fprintf(&b, "# stream-size %d\n", x.StreamSize)
	fmt.Fprintf(&b, "# part-size %d\n", x.PartSize)
	fmt.Fprintf(&b, "# data-parts %d\n", len(x.Data))
	fmt.Fprintf(&b, "# parity-parts %d\n", len(x.Parity))
	for _, f := range x.Files() {
		fmt.Fprintf(&b, "%s  %s\n", f.SHA256, f.Name)
	}
	return b.Bytes()
}

var indexHead = []string{"airlock part index", "bundle", "stream-size", "part-size", "data-parts", "parity-parts"}

// ParseIndex reads a part index strictly (docs/format.md, section 10).
func ParseIndex(data []byte) (*Index, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("is empty or does not end with a newline")
	}
	lines := strings.Split(string(data[:len(data)-1]), "\n")
	if len(lines) < len(indexHead)+1 {
		return nil, fmt.Errorf("has %d lines, too few for a part index", len(lines))
	}
	vals := make([]string, len(indexHead))
	for i, key := range indexHead {
		v, ok := strings.CutPrefix(lines[i], "# "+key+" ")
		if !ok || v == "" {
			return nil, fmt.Errorf("line %d: want %q", i+1, "# "+key+" ...")
		}
		vals[i] = v
	}
	if vals[0] != strconv.Itoa(IndexFormat) {
		return nil, fmt.Errorf("is format %q; this airlock reads format %d", vals[0], IndexFormat)
	}
	x := &Index{Bundle: vals[1]}
	if !hexdigits.IsLower(x.Bundle, 16) {
		return nil, fmt.Errorf("line 2: %q is not a bundle id", x.Bundle)
	}
	nums := make([]int64, 4)
	for i := range nums {
		n, err := strconv.ParseInt(vals[i+2], 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != vals[i+2] {
			return nil, fmt.Errorf("line %d: %q is not a number", i+3, vals[i+2])
		}
		nums[i] = n
	}
	x.StreamSize, x.PartSize = nums[0], nums[1]
	nData, nParity := nums[2], nums[3]
	switch {
	case x.StreamSize <= 0 || x.PartSize < MinPartSize:
		return nil, fmt.Errorf("stream size %d or part size %d is out of range", x.StreamSize, x.PartSize)
	case nData != (x.StreamSize+x.PartSize-1)/x.PartSize || nData > MaxParts:
		return nil, fmt.Errorf("says %d data parts, but %d bytes in parts of %d make %d", nData, x.StreamSize, x.PartSize, (x.StreamSize+x.PartSize-1)/x.PartSize)
	case nParity > 0 && nData+nParity > MaxShards:
		return nil, fmt.Errorf("says %d data and %d parity parts; at most %d in all", nData, nParity, MaxShards)
	case int64(len(lines)) != int64(len(indexHead))+nData+nParity:
		return nil, fmt.Errorf("lists %d files, the head says %d", len(lines)-len(indexHead), nData+nParity)
	}
	for i, line := range lines[len(indexHead):] {
		if len(line) < 67 || line[64:66] != "  " || !manifest.IsSHA256Hex(line[:64]) {
			return nil, fmt.Errorf("line %d: not of the form %q", len(indexHead)+i+1, "HEX  NAME")
		}
		name := line[66:]
		if i == 0 {
			var ok bool
			if x.Base, ok = strings.CutSuffix(name, ".tar.001"); !ok || CheckIndexBase(x.Base) != nil {
				return nil, fmt.Errorf("line %d: first file %q is not NAME.tar.001", len(indexHead)+1, name)
			}
		}
		f := PartFile{Name: name, SHA256: line[:64], Size: x.ShardSize()}
		if int64(i) < nData {
			if want := filepath.Base(PartPath(x.Base, i+1)); name != want {
				return nil, fmt.Errorf("line %d: %q where %s is expected", len(indexHead)+i+1, name, want)
			}
			if int64(i) == nData-1 {
				f.Size = x.StreamSize - (nData-1)*x.PartSize
			}
			x.Data = append(x.Data, f)
			continue
		}
		if want := filepath.Base(ParityPath(x.Base, i+1-int(nData))); name != want {
			return nil, fmt.Errorf("line %d: %q where %s is expected", len(indexHead)+i+1, name, want)
		}
		x.Parity = append(x.Parity, f)
	}
	return x, nil
}

// CheckIndexBase tells whether a bundle name (without folder) can be listed
// in a part index: sha256sum escapes names with a backslash or newline.
func CheckIndexBase(base string) error {
	if base == "" || strings.ContainsAny(base, "/\\\n\r") {
		return fmt.Errorf("bundle name %q cannot be listed in a part index (no slash, backslash or newline)", base)
	}
	return nil
}

// LoadIndex reads the part index at path and its signature beside it and
// checks the signature against trusted keys before parsing anything.
// Failures of the signature or the content are *verify.Error.
func LoadIndex(path string, trusted []keys.Public) (*Index, keys.Public, error) {
	data, err := readLimited(path, maxIndexSize)
	if err != nil {
		return nil, keys.Public{}, fmt.Errorf("part index: %w", err)
	}
	sig, err := readLimited(path+".sig", 1024)
	if err != nil {
		return nil, keys.Public{}, &verify.Error{Part: path + ".sig", Reason: "the part index's signature cannot be read (" + err.Error() + "); copy it from the source with the index"}
	}
	signer, err := verify.Signature(data, sig, trusted)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) {
			ve.Part, ve.Entry = path, ""
		}
		return nil, keys.Public{}, err
	}
	x, err := ParseIndex(data)
	if err != nil {
		return nil, keys.Public{}, &verify.Error{Part: path, Reason: "not a valid part index: " + err.Error()}
	}
	if filepath.Base(IndexPath(x.Base)) != filepath.Base(path) {
		return nil, keys.Public{}, &verify.Error{Part: path, Reason: fmt.Sprintf("lists the parts of bundle %s; the index of that bundle is named %s", x.Base, filepath.Base(IndexPath(x.Base)))}
	}
	return x, signer, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil, fmt.Errorf("%s is not a regular file of at most %d bytes", path, limit)
	}
	return bounded.ReadFile(path, limit) // it may have grown since
}

// signIndex renders and signs an index.
func signIndex(x *Index, priv ed25519.PrivateKey) (data, sig []byte) {
	data = x.Marshal()
	return data, verify.Sign(priv, data)
}
