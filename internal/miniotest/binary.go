package miniotest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// EnvBinary names the environment variable that points at the MinIO binary.
const EnvBinary = "AIRLOCK_MINIO"

// errNoBinary marks a missing MinIO binary: a reason to skip, not to fail.
var errNoBinary = errors.New("minio binary not found")

// findBinary returns the path of the MinIO binary.
func findBinary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%w: $%s=%s is not an executable file (run make tools)", errNoBinary, EnvBinary, p)
		}
		return p, nil
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", "minio")
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: set $%s, or run make tools to install it in .tools/bin", errNoBinary, EnvBinary)
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// skipOrFail stops t because of err: a missing binary skips the test unless
// CI=true, anything else fails it.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errNoBinary) && !inCI() {
		t.Skipf("miniotest: %v", err)
	}
	t.Fatalf("miniotest: %v", err)
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}
