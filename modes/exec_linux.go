package modes

import "syscall"

// setParentDeathSignal has the kernel kill the program when sonde dies,
// even of SIGKILL. Linux sends it when the thread that forked the
// program exits, not the process: that is safe here because the Go
// runtime ends a thread only when a goroutine locked to it (LockOSThread)
// returns, and sonde starts programs from goroutines that never lock
// one. The watchdog (exec_watchdog_other.go) covers the rest of the
// group.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
