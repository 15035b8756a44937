//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package modes

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// inForeground tells whether f is sonde's controlling terminal
// (controlling) and sonde's process group its foreground group (fg).
func inForeground(f *os.File) (fg, controlling bool) {
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	if err != nil {
		return true, false
	}
	return pgrp == unix.Getpgrp(), true
}

// waitReadable waits at most d for input on f, without reading it, which
// a background job may do without being stopped.
func waitReadable(f *os.File, d time.Duration) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(d.Milliseconds()))
	if errors.Is(err, unix.EINTR) {
		return false, nil
	}
	return n > 0, err
}
