package miniotest

import (
	"os/exec"
	"syscall"
)

// dieWithParent kills MinIO if the test binary dies without cleaning up
// (a panic or a -timeout), so no server outlives its tests.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
