//go:build !unix

package process

import (
	"os"
	osexec "os/exec"
	"syscall"
)

// Without process groups only the leader can be signalled, and only killed.
func ownGroup(*osexec.Cmd) {}

func signalGroup(p *os.Process, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return p.Kill()
	}
	return p.Signal(sig)
}
