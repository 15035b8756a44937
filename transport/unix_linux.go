package transport

import (
	"context"
	"net"
	"syscall"
)

// maxSocketPath is the longest socket file path: sun_path holds 108 bytes
// with the terminating NUL (an abstract name, which has none, may be one
// byte longer).
const maxSocketPath = 107

// checkAbstract accepts "@name" paths: Linux has an abstract namespace.
func checkAbstract(string) error { return nil }

// dialUnixgram binds the client before connecting, with an empty name,
// which makes Linux hand out a unique abstract address ("autobind"), so
// replies can reach it and there is no file to clean up. (net.DialUnix
// with an empty local name does not bind at all.)
func dialUnixgram(path string, o DialOptions) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = syscall.Bind(int(fd), &syscall.SockaddrUnix{}) }); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.DialContext(context.Background(), "unixgram", path)
	if err != nil {
		return nil, &DialError{Network: o.Network, Target: path, Attempts: []Attempt{{Addr: path, Err: err}}}
	}
	return c, nil
}
