package release

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/airlockhq/airlock/internal/bounded"
	"github.com/airlockhq/airlock/manifest"
)

// Host names the platform of the running binary in a platform list.
const Host = "host"

// Binary is a release binary found to carry.
type Binary struct {
	manifest.Binary
	File   string // where it is
	Size   int64
	SHA256 string // lowercase hex, of File as it was read
}

// NotFoundError is a platform with no binary to carry.
type NotFoundError struct {
	Platform string
	Dir      string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no airlock binary for %s: %s has no %s", e.Platform, e.Dir, manifest.Binary{Platform: e.Platform}.FileName())
}

// Find returns the binaries for platforms (os/arch, or Host), in order and
// each once: the one make dist wrote into dir when it is there, checked
// against dir's SHA256SUMS, else the running executable when the platform
// is its own (selfVersion is what it reports as its version).
func Find(dir string, platforms []string, selfVersion string) ([]Binary, error) {
	host := runtime.GOOS + "/" + runtime.GOARCH
	var sums map[string]string
	seen := map[string]bool{}
	var out []Binary
	for _, p := range platforms {
		if p == Host {
			p = host
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		name := manifest.Binary{Platform: p}.FileName()
		path := filepath.Join(dir, name)
		_, err := os.Stat(path)
		switch {
		case err == nil:
			if sums == nil {
				if sums, err = readSums(dir); err != nil {
					return nil, err
				}
			}
			b, err := fromDist(path, p, sums)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		case p == host:
			b, err := self(selfVersion)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		default:
			return nil, &NotFoundError{Platform: p, Dir: dir}
		}
	}
	return out, nil
}

// readSums reads dir's SHA256SUMS as make dist writes it.
func readSums(dir string) (map[string]string, error) {
	path := filepath.Join(dir, manifest.SumsName)
	data, err := bounded.ReadFile(path, manifest.MaxSumsSize)
	if err != nil {
		return nil, fmt.Errorf("reading the checksums of the release binaries: %w", err)
	}
	list, err := manifest.ParseSums(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sums := map[string]string{}
	for _, s := range list {
		sums[s.Name] = s.SHA256
	}
	return sums, nil
}

// sbomSuffix names the CycloneDX SBOM make dist writes beside a binary.
const sbomSuffix = ".cdx.json"

// maxSBOM bounds the SBOM sbomVersion reads.
const maxSBOM = 16 << 20

// sbomVersion is the version the binary's SBOM gives its main component
// (make dist passes it the version it stamps), once the SBOM is checked
// against sums; "" when there is no SBOM.
func sbomVersion(path string, sums map[string]string) (string, error) {
	data, err := bounded.ReadFile(path, maxSBOM)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	if want := sums[filepath.Base(path)]; hex.EncodeToString(sum[:]) != want {
		return "", fmt.Errorf("%s does not match the %s beside it; run make dist again", path, manifest.SumsName)
	}
	var doc struct {
		Metadata struct {
			Component struct {
				Version string `json:"version"`
			} `json:"component"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return doc.Metadata.Component.Version, nil
}

// fromDist checks a binary of make dist against its SHA256SUMS line want
// and reads the version it was stamped with: from its SBOM, which make
// dist writes with it (-trimpath keeps -ldflags out of the build info),
// else from the build info.
func fromDist(path, platform string, sums map[string]string) (Binary, error) {
	want := sums[filepath.Base(path)]
	if want == "" {
		return Binary{}, fmt.Errorf("%s is not listed in the %s beside it; run make dist again", path, manifest.SumsName)
	}
	b, err := hashFile(path)
	if err != nil {
		return Binary{}, err
	}
	if b.SHA256 != want {
		return Binary{}, fmt.Errorf("%s has sha256 %s, its %s says %s; run make dist again", path, b.SHA256, manifest.SumsName, want)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return Binary{}, fmt.Errorf("%s: reading its build info: %w", path, err)
	}
	v, err := sbomVersion(path+sbomSuffix, sums)
	if err != nil {
		return Binary{}, err
	}
	if v == "" {
		v = stampedVersion(info)
	}
	if v == "" {
		return Binary{}, fmt.Errorf("%s does not say its version (it was not built by make dist)", path)
	}
	b.Binary = manifest.Binary{Version: v, Platform: platform}
	return b, checked(b)
}

// self is the running executable.
func self(version string) (Binary, error) {
	path, err := os.Executable()
	if err != nil {
		return Binary{}, fmt.Errorf("finding the running airlock: %w", err)
	}
	b, err := hashFile(path)
	if err != nil {
		return Binary{}, err
	}
	b.Binary = manifest.Binary{Version: version, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	return b, checked(b)
}

// checked applies the manifest's rules to b before anything is written.
func checked(b Binary) error { return b.Check(b.Path()) }

// stampedVersion is the main.version a build set with -ldflags -X, else
// the module version go install recorded.
func stampedVersion(info *buildinfo.BuildInfo) string {
	for _, s := range info.Settings {
		if s.Key != "-ldflags" {
			continue
		}
		for _, f := range strings.Fields(s.Value) {
			if v, ok := strings.CutPrefix(strings.TrimPrefix(f, "-X="), "main.version="); ok {
				return v
			}
		}
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return ""
}

func hashFile(path string) (Binary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Binary{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Binary{}, err
	}
	if !fi.Mode().IsRegular() {
		return Binary{}, fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Binary{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return Binary{File: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
