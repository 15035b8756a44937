package modes

// What the engines need of a connection besides its bytes: names for
// messages, half-close, timeouts, and read buffers that grow with use.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// isSocketErrno tells whether err can only have come from the socket side
// of a copy.
func isSocketErrno(err error) bool {
	for _, e := range []error{syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ECONNREFUSED, syscall.ENOTCONN} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// closeWrite half-closes c when it can (TCP, Unix stream, TLS), so that
// the peer sees EOF while sonde keeps reading.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// resetOnClose makes the next Close of a TCP connection send a reset
// (SO_LINGER 0) instead of an orderly FIN, so that the peer cannot take
// the end for a complete answer. Other connections are left as they are:
// a Unix stream socket has no reset, its peer reads end of file.
func resetOnClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}

// refusal says why a server turns a client away, or "" to serve it: the
// access list (--allow, --deny) first, then --max-conns, against the
// clients served now (serving of them, e.g. "relayed").
func refusal(access *transport.AccessList, conn net.Conn, maxConns, serving int, what, verb string) string {
	if ok, why := access.PermitsConn(conn); !ok {
		return why
	}
	if maxConns > 0 && serving >= maxConns {
		return fmt.Sprintf("%s %s (--max-conns)", plural(int64(maxConns), what), verb)
	}
	return ""
}

// turnAway closes a client a server refused, with a reset, so that the
// client's own tools fail (nc, ncat and curl exit non-zero) instead of
// seeing a clean close, and logs it with -v.
func turnAway(u *ui.UI, conn net.Conn, why string) {
	u.Verbosef(1, "refused %s: %s", clientName(conn), why)
	resetOnClose(conn)
	conn.Close()
}

// peerName names the other end of a connection for messages.
func peerName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "peer"
}

// halfClose passes an EOF on. Under TLS that is a close_notify alert,
// followed by the TCP FIN that peers reading the socket itself wait for.
func halfClose(dst, raw net.Conn) {
	closeWrite(dst)
	if raw != dst {
		closeWrite(raw)
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.AddrPort()
	case *net.UDPAddr:
		return v.AddrPort()
	}
	return netip.AddrPort{}
}

// clientName names an accepted client; Unix stream clients are usually
// unnamed, so say so rather than print an empty string.
func clientName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "a local client"
}

func addrName(a net.Addr) string {
	if a == nil {
		return ""
	}
	if u, ok := a.(*net.UnixAddr); ok && (u.Name == "" || u.Name == "@") {
		return ""
	}
	return a.String()
}

// lastName is addrName with a memory of one: a flood from one sender
// names it once, not once per datagram.
type lastName struct {
	udp  net.UDPAddr
	name string
	ok   bool
}

func (l *lastName) of(a net.Addr) string {
	u, isUDP := a.(*net.UDPAddr)
	if !isUDP || u == nil {
		return addrName(a)
	}
	if l.ok && u.Port == l.udp.Port && u.Zone == l.udp.Zone && u.IP.Equal(l.udp.IP) {
		return l.name
	}
	l.udp = net.UDPAddr{IP: append(l.udp.IP[:0], u.IP...), Port: u.Port, Zone: u.Zone}
	l.name, l.ok = addrName(a), true
	return l.name
}

func orUnnamed(name string) string {
	if name == "" {
		return "an unnamed socket (replies cannot reach it)"
	}
	return name
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A server reads each client into a buffer that starts at minReadBuffer
// and doubles whenever a read fills it, up to maxReadBuffer: a client that
// stays idle or sends little costs little (1000 idle clients hold 2 MiB,
// not 64), a busy one soon reads in large chunks.
const (
	minReadBuffer = 2 << 10
	maxReadBuffer = 64 << 10
)

// growBuffer returns the buffer for the next read after one of n bytes
// into buf.
func growBuffer(buf []byte, n int) []byte {
	if n == len(buf) && len(buf) < maxReadBuffer {
		return make([]byte, 2*len(buf))
	}
	return buf
}
