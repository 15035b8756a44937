package modes

import (
	"errors"
	"net"
	"net/netip"

	"github.com/sondeproject/sonde/transport"
)

// ping --udp: a frame per probe in a datagram to a UDP echo server.

// datagramPinger sends a frame per probe on one connected UDP socket; a
// goroutine reads what comes back.
type datagramPinger struct{ frameConn }

func newDatagramPinger(target netip.AddrPort, src netip.Addr, replies chan<- pingReply) (*datagramPinger, error) {
	var laddr *net.UDPAddr
	if src.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	var conn *net.UDPConn
	var err error
	// A socket given the target's own port (on loopback) would receive
	// its own datagrams and pass for an echo server: take another.
	for range 3 {
		if conn, err = net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(target)); err != nil {
			return nil, &transport.DialError{Network: "udp", Target: target.String(), Attempts: []transport.Attempt{{Addr: target.String(), Err: err}}}
		}
		if !transport.IsSelfConnect(conn) {
			break
		}
		conn.Close()
		conn = nil
	}
	if conn == nil {
		return nil, &pingError{msg: "cannot ping " + target.String() + ": every local port sonde got was that port itself"}
	}
	p := &datagramPinger{newFrameConn(conn, replies)}
	go p.receive()
	return p, nil
}

func (p *datagramPinger) send(seq int) *pingReply {
	if _, err := p.conn.Write(p.codec.encode(seq)); err != nil {
		if transport.IsPortUnreachable(err) {
			return &pingReply{seq: seq, why: "ICMP port unreachable (nothing listens on that UDP port)"}
		}
		return &pingReply{seq: seq, why: transport.Explain(err).Msg}
	}
	return nil
}

func (p *datagramPinger) receive() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, err := p.conn.Read(buf)
		var r pingReply
		switch {
		case err == nil:
			seq, rtt, ok := p.codec.decode(buf[:n])
			if !ok {
				continue // not an echo of one of our probes
			}
			r = pingReply{seq: seq, ok: true, rtt: rtt}
		case transport.IsPortUnreachable(err):
			r = pingReply{refused: true}
		case errors.Is(err, net.ErrClosed):
			return
		default:
			r = pingReply{err: &transport.StreamError{Peer: p.conn.RemoteAddr().String(), Network: "udp", Err: err}}
		}
		if !p.report(r) {
			return
		}
	}
}
