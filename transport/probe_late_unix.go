//go:build unix

package transport

import (
	"net"
	"os"
	"syscall"
)

// lastLookUDP reads c once without waiting, after a read ended at its
// deadline: a reply queued by then is read (nil), an ICMP error the
// socket holds is returned; with nothing there, the deadline error
// stays.
func lastLookUDP(c *net.UDPConn, buf []byte, deadline error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return deadline
	}
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		_, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
	}); err != nil {
		return deadline
	}
	switch {
	case rerr == nil:
		return nil
	case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR:
		return deadline
	}
	return &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("recvfrom", rerr)}
}
