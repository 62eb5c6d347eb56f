//go:build unix

package process

import (
	"errors"
	"os"
	osexec "os/exec"
	"syscall"
)

// ownGroup puts the task in a process group of its own, so signals reach everything it forked
// and nothing of the sidecar's.
func ownGroup(cmd *osexec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup signals the task's whole process group (its leader's pid); a group already gone
// is not an error.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
