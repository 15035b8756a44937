//go:build !windows

package modes

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// shellCommand runs cmd as sh -c does, as ncat -c and socat SYSTEM do.
func shellCommand(cmd string) *exec.Cmd {
	return exec.Command("/bin/sh", "-c", cmd)
}

// signalName names the signal that ended a process: "signal 9 (killed)".
func signalName(st *os.ProcessState) string {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return st.String()
}
