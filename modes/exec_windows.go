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

// Windows has no signals to ask a program to end: it gets execGrace to
// exit once its stdin and stdout are closed, then it is killed.
const (
	groupTerminate = syscall.Signal(-1)
	groupKill      = syscall.SIGKILL
)

// programGroup is the program alone: Windows has no process groups to
// signal (a job object would be its counterpart).
type programGroup struct {
	p        *os.Process
	killed   bool
	watchErr error
}

func startProgram(cmd *exec.Cmd) (*programGroup, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &programGroup{p: cmd.Process}, nil
}

// signal kills the program for groupKill; the group's other members are
// not known, so none is ever reported left.
func (g *programGroup) signal(sig syscall.Signal) bool {
	switch sig {
	case groupKill:
		g.killed = true
		g.p.Kill()
	case groupTerminate:
		return true // wait for the program to exit
	}
	return false
}

func (g *programGroup) endedBySonde(*os.ProcessState) bool { return g.killed }

func (g *programGroup) release() {}
