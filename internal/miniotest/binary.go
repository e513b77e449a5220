package miniotest

import (
	"errors"
	"testing"

	"github.com/airlockhq/airlock/internal/testtool"
)

// EnvBinary names the environment variable that points at the MinIO binary.
const EnvBinary = "AIRLOCK_MINIO"

// errNoBinary marks a missing MinIO binary: a reason to skip, not to fail.
var errNoBinary = testtool.ErrNotFound

// findBinary returns the path of the MinIO binary.
func findBinary() (string, error) { return testtool.Find("minio", EnvBinary) }

// skipOrFail stops t because of err: a missing binary skips the test unless
// CI=true, anything else fails it.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errNoBinary) {
		testtool.SkipOrFail(t, "miniotest: %v", err)
	}
	t.Fatalf("miniotest: %v", err)
}
