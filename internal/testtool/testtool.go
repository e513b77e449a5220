// Package testtool finds the real programs tests run (MinIO, cosign): the
// path in an environment variable (make sets it), else the binary that
// make tools installs in the module's .tools/bin, else one on PATH.
package testtool

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNotFound marks a missing binary: a reason to skip a test outside CI.
var ErrNotFound = errors.New("binary not found")

// Find returns the path of the program name, looking at $env first.
func Find(name, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%s %w: $%s=%s is not an executable file (run make tools)", name, ErrNotFound, env, p)
		}
		return p, nil
	}
	if root, err := moduleRoot(); err == nil {
		if p := filepath.Join(root, ".tools", "bin", name); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s %w: set $%s, or run make tools to install it in .tools/bin", name, ErrNotFound, env)
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
