package transport

import (
	"net"
	"strconv"
)

// Endpoint is one end of a connection as the command line gave it,
// parsed once: a host not yet resolved, a port as a number, and how the
// host may be resolved. Dial connects to an Endpoint; Listen binds one.
type Endpoint struct {
	// Host is a name, an IP literal (brackets removed, zone kept), the
	// path of a Unix socket, or "" for every local address (listening).
	Host string
	// Port is 1-65535; 0 lets a listener pick a free port, and is the
	// port of a Unix socket.
	Port    int
	Family  int    // 0 for any, 4 or 6 (-4/-6)
	Numeric bool   // -n: never ask DNS
	Source  string // -s: the local address to connect from, "" for any (a listener's address is Host)
}

// HostPort is the endpoint as host:port ([v6]:port), for messages.
func (e Endpoint) HostPort() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }
