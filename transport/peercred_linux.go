package transport

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerCredSupported tells whether PeerUID works here (--allow-uid).
const PeerCredSupported = true

// PeerUID is the user id of the process at the other end of a Unix stream
// socket, as the kernel recorded it when the peer connected (SO_PEERCRED):
// the peer cannot choose it.
func PeerUID(c net.Conn) (uint32, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return cred.Uid, nil
}
