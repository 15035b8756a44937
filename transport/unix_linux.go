package transport

import (
	"net"
)

// checkAbstract accepts "@name" paths: Linux has an abstract namespace.
func checkAbstract(string) error { return nil }

// dialUnixgram binds the client to an autobound abstract address, which
// Linux hands out when the bound name is empty; nothing to clean up.
func dialUnixgram(path string, o DialOptions) (net.Conn, error) {
	laddr := &net.UnixAddr{Name: "", Net: "unixgram"}
	c, err := net.DialUnix("unixgram", laddr, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, &DialError{Network: o.Network, Target: path, Attempts: []Attempt{{Addr: path, Err: err}}}
	}
	return c, nil
}
