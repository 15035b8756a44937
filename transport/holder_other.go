//go:build !linux

package transport

// FindPortHolder is not implemented off Linux: the hint then tells the
// user how to find the holder with lsof or netstat.
func FindPortHolder(network string, port int) *Holder { return nil }

// FindUnixHolder is not implemented off Linux.
func FindUnixHolder(path string) *Holder { return nil }

// unixPathBound cannot tell off Linux: the caller probes with a connect.
func unixPathBound(path string) bool { return false }

// portInTimeWaitOnly cannot tell off Linux.
func portInTimeWaitOnly(network string, port int) bool { return false }
