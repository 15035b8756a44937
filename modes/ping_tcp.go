package modes

import (
	"context"
	"net/netip"
	"sync"

	"github.com/sondeproject/sonde/transport"
)

// ping's default probe: a TCP handshake, timed and closed at once.

// tcpPinger times handshakes. Each begins on the event loop's goroutine,
// at its time, and finishes there when the kernel answers at once (as on
// loopback); only a handshake still in progress is waited for in a
// goroutine of its own, so a slow probe never delays the next one.
type tcpPinger struct {
	ctx     context.Context
	target  netip.AddrPort
	opts    transport.ProbeOptions
	replies chan<- pingReply
	wg      sync.WaitGroup
}

func (p *tcpPinger) timed() bool { return false }

func (p *tcpPinger) send(seq int) *pingReply {
	res, wait, err := transport.StartProbeTCP(p.ctx, p.target, p.opts)
	if wait == nil {
		if err != nil && p.ctx.Err() != nil {
			return nil // the session is over: no outcome
		}
		r := handshakeReply(seq, res, err)
		return &r
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		res, err := wait()
		if err != nil && p.ctx.Err() != nil {
			return // the session is over
		}
		select {
		case p.replies <- handshakeReply(seq, res, err):
		case <-p.ctx.Done():
		}
	}()
	return nil
}

func handshakeReply(seq int, res transport.ProbeResult, err error) pingReply {
	r := pingReply{seq: seq}
	switch {
	case err != nil:
		r.why = transport.Explain(err).Msg
	case res.State == transport.Open:
		r.ok, r.rtt = true, res.RTT
	default:
		r.why = res.Why
	}
	return r
}

func (p *tcpPinger) close() { p.wg.Wait() }
