//go:build !linux

package transport

import (
	"errors"
	"net"
)

// PeerCredSupported tells whether PeerUID works here (--allow-uid).
const PeerCredSupported = false

// PeerUID would read the user id of a Unix socket's peer; sonde reads it
// with Linux's SO_PEERCRED only.
func PeerUID(net.Conn) (uint32, error) {
	return 0, errors.New("peer credentials are not supported on this system")
}
