// Package miniotest runs a real MinIO server for tests.
//
// The binary is found through $AIRLOCK_MINIO, then <module root>/.tools/bin/minio
// (installed by `make tools`), then $PATH. When it is missing, tests are
// skipped with a hint, except under CI=true where they fail: a CI run must
// never pass by testing nothing.
//
// Start gives a test its own server (needed for fault tests that Stop and
// Restart it); Shared starts one server per test package on first use and is
// closed from TestMain.
package miniotest
