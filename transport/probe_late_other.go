//go:build !unix

package transport

import "net"

// lastLookUDP: without a non-blocking read at hand, the deadline stands.
func lastLookUDP(c *net.UDPConn, buf []byte, deadline error) error { return deadline }
