package modes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// ping --echo: a frame per probe over one TCP connection to an echo
// server.

// echoPinger writes a frame per probe on one TCP connection and reads the
// frames back in order; frames of probes already timed out come back late.
type echoPinger struct{ frameConn }

func newEchoPinger(ctx context.Context, target netip.AddrPort, src netip.Addr, timeout time.Duration, replies chan<- pingReply, u *ui.UI) (*echoPinger, error) {
	t := transport.Endpoint{Host: target.Addr().String(), Port: int(target.Port()), Numeric: true}
	if src.IsValid() {
		t.Source = src.String()
	}
	start := time.Now()
	conn, err := transport.Dial(ctx, t, transport.DialOptions{Network: "tcp", Timeout: timeout})
	if err != nil {
		return nil, err
	}
	if transport.IsSelfConnect(conn) {
		conn.Close()
		return nil, &pingError{msg: "cannot connect to " + target.String() + ": nothing listens (the connection reached itself)",
			hint: "start an echo server there, e.g. sonde echo " + strconv.Itoa(int(target.Port()))}
	}
	u.Verbosef(1, "connected to %s in %s; probes go over this one connection", conn.RemoteAddr(), roundDuration(time.Since(start)))
	p := &echoPinger{newFrameConn(conn, replies)}
	go p.receive()
	return p, nil
}

func (p *echoPinger) send(seq int) *pingReply {
	if _, err := p.conn.Write(p.codec.encode(seq)); err != nil {
		return &pingReply{err: &transport.StreamError{Peer: p.conn.RemoteAddr().String(), Network: "tcp", Err: err}}
	}
	return nil
}

func (p *echoPinger) receive() {
	defer close(p.done)
	peer := p.conn.RemoteAddr().String()
	frame := make([]byte, frameLen)
	for {
		var r pingReply
		_, err := io.ReadFull(p.conn, frame)
		switch {
		case errors.Is(err, net.ErrClosed):
			return
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			r.err = &pingError{msg: "the echo server " + peer + " closed the connection",
				hint: "the server stopped, or closes idle or unknown clients"}
		case err != nil:
			r.err = &transport.StreamError{Peer: peer, Network: "tcp", Err: err}
		default:
			seq, rtt, ok := p.codec.decode(frame)
			if !ok {
				r.err = &pingError{msg: fmt.Sprintf("%s does not echo: it sent %q, not the probe", peer, frame),
					hint: "--echo needs an echo server (RFC 862; sonde echo PORT runs one); without --echo, sonde ping times TCP handshakes"}
			} else {
				r = pingReply{seq: seq, ok: true, rtt: rtt}
			}
		}
		if !p.report(r) {
			return
		}
	}
}
