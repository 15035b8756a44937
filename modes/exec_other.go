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

// The signals that end a program's group: first asked, then forced.
const (
	groupTerminate = syscall.SIGTERM
	groupKill      = syscall.SIGKILL
)

// programGroup is the process group of a program of -e or -c. The
// program runs in a session of its own (setsid): it has no controlling
// terminal, so it can neither read sonde's terminal nor take it over
// (an interactive shell would, and swallow Ctrl-C), and what it starts
// stays in its process group, which sonde signals as a whole when the
// session is over. The watchdog ends the group if sonde itself is killed.
type programGroup struct {
	pgid     int
	sent     map[syscall.Signal]bool
	watchErr error // the watchdog could not be started
}

func startProgram(cmd *exec.Cmd) (*programGroup, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	setParentDeathSignal(cmd.SysProcAttr)
	w, werr := programWatchdog()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &programGroup{pgid: cmd.Process.Pid, sent: map[syscall.Signal]bool{}, watchErr: werr}
	w.add(g.pgid)
	return g, nil
}

// signal sends sig to every process of the group (0 sends nothing) and
// tells whether any is left.
func (g *programGroup) signal(sig syscall.Signal) bool {
	if sig != 0 {
		g.sent[sig] = true
	}
	return syscall.Kill(-g.pgid, sig) != syscall.ESRCH
}

// endedBySonde tells whether the program died of a signal sonde sent it,
// rather than of its own accord.
func (g *programGroup) endedBySonde(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && g.sent[ws.Signal()]
}

// release tells the watchdog that the group is gone.
func (g *programGroup) release() { watchdog.remove(g.pgid) }
