//go:build !linux && !windows

package modes

import "syscall"

// setParentDeathSignal: only Linux has a parent-death signal that Go
// sets up; elsewhere the watchdog alone ends a killed sonde's programs.
func setParentDeathSignal(*syscall.SysProcAttr) {}
