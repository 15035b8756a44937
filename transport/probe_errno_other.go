//go:build !windows

package transport

// On Unix systems the syscall constants are the kernel's own numbers.
func isRefusedOS(error) bool     { return false }
func isUnreachableOS(error) bool { return false }
