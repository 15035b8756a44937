//go:build !unix

package transport

// OpenFileLimit: this system has no RLIMIT_NOFILE.
func OpenFileLimit() (limit int, ok bool) { return 0, false }
