//go:build unix

package transport

import "syscall"

// OpenFileLimit is the soft limit on open file descriptors (RLIMIT_NOFILE),
// which bounds how many probes may be in flight at once. ok is false when
// the system sets no limit sonde can read.
func OpenFileLimit() (limit int, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0, false
	}
	return int(rl.Cur), true
}
