package modes

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// shellCommand runs cmd with cmd.exe /c. The command line is passed as
// typed: cmd.exe parses it by rules of its own, which the quoting Go
// applies to arguments would only disturb.
func shellCommand(cmd string) *exec.Cmd {
	shell := os.Getenv("ComSpec")
	if shell == "" {
		shell = filepath.Join(os.Getenv("SystemRoot"), "System32", "cmd.exe")
	}
	c := exec.Command(shell)
	c.SysProcAttr = &syscall.SysProcAttr{CmdLine: `cmd /c ` + cmd}
	return c
}

// signalName: Windows processes end with an exit code, not a signal.
func signalName(st *os.ProcessState) string { return st.String() }
