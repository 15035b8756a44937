//go:build windows

package transport

import (
	"errors"
	"syscall"
)

// Winsock reports errors with numbers of its own, which syscall's Unix
// style constants (ECONNREFUSED, ...) do not match.
const (
	wsaEACCES       = 10013
	wsaENETUNREACH  = 10051
	wsaECONNRESET   = 10054 // also a UDP read after ICMP port unreachable
	wsaECONNREFUSED = 10061
	wsaEHOSTUNREACH = 10065
)

func isRefusedOS(err error) bool { return hasErrno(err, wsaECONNREFUSED, wsaECONNRESET) }

func isUnreachableOS(err error) bool {
	return hasErrno(err, wsaEHOSTUNREACH, wsaENETUNREACH, wsaEACCES)
}

func hasErrno(err error, codes ...syscall.Errno) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	for _, c := range codes {
		if errno == c {
			return true
		}
	}
	return false
}
