package modes

// The UDP relay: a session (a socket connected to the target) for each
// client address, ended after --idle-timeout without a datagram.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// relaySession is one UDP client and its socket connected to the target.
type relaySession struct {
	id      int64
	client  net.Addr
	name    string
	up      net.Conn
	hex     *transport.HexStream
	started time.Time

	active                 activity     // the last datagram either way, for --idle-timeout
	toTarget, toClient     atomic.Int64 // bytes
	dgToTarget, dgToClient atomic.Int64 // datagrams
}

// serveDatagrams reads datagrams from clients and forwards each through
// its client's session until the context is done.
func (r *relay) serveDatagrams(pc net.PacketConn) error {
	r.sessions = make(map[string]*relaySession)
	r.refusing = make(map[string]bool)
	growReceiveBuffer(r.o.UI, pc, "udp")
	reportDrops := watchDrops(r.o.UI, pc)
	defer reportDrops() // pc is still open, unless the AfterFunc closed it after reporting
	stop := context.AfterFunc(r.ctx, func() {
		reportDrops()
		pc.Close()
		r.stopAll()
	})
	defer stop()
	defer func() {
		r.stopAll()
		r.wg.Wait()
	}()
	batch := newBatchReader(pc, 64<<10)
	var ids int64
	for {
		ds, err := batch.read()
		if err != nil {
			if cause := context.Cause(r.ctx); cause != nil {
				return cause
			}
			if isTimeoutErr(err) || errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			return err
		}
		for _, d := range ds {
			r.forward(pc, d.p, d.from, &ids)
		}
	}
}

// forward sends a client's datagram to the target through the client's
// session, opened for it if it has none; ids numbers the sessions.
func (r *relay) forward(pc net.PacketConn, p []byte, from net.Addr, ids *int64) {
	key := from.String()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	s := r.sessions[key]
	if s == nil {
		if r.refusedDatagram(from, key) {
			r.mu.Unlock()
			r.totals.refused.Add(1)
			return
		}
		var err error
		if s, err = r.openSession(pc, *ids+1, from); err != nil {
			r.mu.Unlock()
			r.dialFailed(*ids+1, key, err)
			return
		}
		*ids++
	}
	// Written under r.mu, so that the session cannot expire between
	// its last touch and this datagram.
	s.active.touch()
	w, werr := s.up.Write(p)
	r.mu.Unlock()
	if werr != nil {
		r.o.UI.Verbosef(1, "conn %d %s: cannot send %s to target %s: %s", s.id, s.name, byteCount(len(p)), r.upstream, transport.Explain(werr).Msg)
		return
	}
	s.toTarget.Add(int64(w))
	s.dgToTarget.Add(1)
	r.totals.toTarget.Add(int64(w))
	r.totals.dgToTarget.Add(1)
	if r.o.UI.Verbosity() >= 2 { // checked first: boxing the arguments costs on the hot path
		r.o.UI.Verbosef(2, "conn %d: %s from %s to target", s.id, byteCount(w), s.name)
	}
	if s.hex != nil {
		s.hex.Note("datagram of %s from %s to target", byteCount(w), s.name)
		s.hex.Sent(p[:w])
	}
}

// refusedDatagram applies --allow/--deny and --max-conns to a sender
// without a session; each refused sender is logged once (-v), not once per
// datagram. Called under r.mu.
func (r *relay) refusedDatagram(from net.Addr, key string) bool {
	if ok, why := r.o.Access.Permits(from); !ok {
		if !r.refusing[key] {
			r.rememberRefused(key)
			r.o.UI.Verbosef(1, "refused %s: %s", key, why)
		}
		return true
	}
	if r.o.MaxConns > 0 && len(r.sessions) >= r.o.MaxConns {
		if !r.refusing[key] {
			r.rememberRefused(key)
			r.o.UI.Verbosef(1, "refused %s: %s relayed (--max-conns)", key, plural(int64(r.o.MaxConns), "session"))
		}
		return true
	}
	delete(r.refusing, key)
	return false
}

// rememberRefused keeps the set of logged refusals bounded: a flood from
// many addresses must not grow it without end.
func (r *relay) rememberRefused(key string) {
	if len(r.refusing) >= 4096 {
		clear(r.refusing)
	}
	r.refusing[key] = true
}

// openSession connects a socket to the target for a new client and starts
// forwarding the target's replies. Called under r.mu.
func (r *relay) openSession(pc net.PacketConn, id int64, from net.Addr) (*relaySession, error) {
	addr := r.addrs[0]
	for _, a := range r.addrs {
		if a.Is4() == addrPortOf(from).Addr().Unmap().Is4() {
			addr = a // the client's family, where the target has it
			break
		}
	}
	t := r.o.Target
	t.Host = addr.String()
	up, err := transport.Dial(r.ctx, t, r.dialOptions("udp", id))
	if err != nil {
		return nil, err
	}
	s := &relaySession{id: id, client: from, name: from.String(), up: up, started: time.Now()}
	s.active.touch()
	r.sessions[s.name] = s
	r.totals.conns.Add(1)
	r.o.UI.Verbosef(2, "conn %d: new client %s, relaying to %s from %s", id, s.name, peerName(up), up.LocalAddr())
	if r.o.Hex != nil {
		s.hex = r.o.Hex.Stream(id, true, fmt.Sprintf("%s → target %s", s.name, peerName(up)))
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.replies(pc, s)
	}()
	return s, nil
}

// replies forwards the target's datagrams to the session's client until
// the session has been idle for the idle timeout or the relay stops.
func (r *relay) replies(pc net.PacketConn, s *relaySession) {
	o := r.o
	defer s.up.Close()
	buf := make([]byte, 64<<10)
	var (
		why         string
		unreachable bool
	)
	for {
		s.up.SetReadDeadline(s.active.deadline(r.idle))
		n, err := s.up.Read(buf)
		if err == nil {
			s.active.touch()
			w, werr := pc.WriteTo(buf[:n], s.client)
			if werr != nil {
				o.UI.Verbosef(1, "conn %d: cannot send %s to %s: %s", s.id, byteCount(n), s.name, transport.Explain(werr).Msg)
				continue
			}
			s.toClient.Add(int64(w))
			s.dgToClient.Add(1)
			r.totals.toClient.Add(int64(w))
			r.totals.dgToClient.Add(1)
			o.UI.Verbosef(2, "conn %d: %s from target to %s", s.id, byteCount(w), s.name)
			if s.hex != nil {
				s.hex.Note("datagram of %s from target to %s", byteCount(w), s.name)
				s.hex.Received(buf[:w])
			}
			continue
		}
		if isTimeoutErr(err) {
			r.mu.Lock()
			_, idle := s.active.idle(r.idle)
			if idle {
				delete(r.sessions, s.name)
			}
			r.mu.Unlock()
			if idle {
				why = fmt.Sprintf("idle for %s, closed", r.idle)
				break
			}
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) && context.Cause(r.ctx) == nil {
			// An ICMP port unreachable: the target does not listen (yet).
			// The session stays; the client may try again.
			if !unreachable {
				unreachable = true
				o.UI.Verbosef(1, "conn %d %s: nothing is listening on UDP %s (ICMP port unreachable)", s.id, s.name, peerName(s.up))
			}
			continue
		}
		r.mu.Lock()
		if r.sessions[s.name] == s {
			delete(r.sessions, s.name)
		}
		r.mu.Unlock()
		why = "interrupted"
		if context.Cause(r.ctx) == nil {
			why = transport.Explain(err).Msg
		}
		break
	}
	o.UI.Verbosef(1, "conn %d %s → target %s: %s; %s (%s) to target, %s (%s) to client in %s",
		s.id, s.name, peerName(s.up), why, plural(s.dgToTarget.Load(), "datagram"), bytesString(s.toTarget.Load()),
		plural(s.dgToClient.Load(), "datagram"), bytesString(s.toClient.Load()), roundDuration(time.Since(s.started)))
}

// reportDatagrams sums up a UDP relay at its end.
func (r *relay) reportDatagrams(start time.Time) {
	t := &r.totals
	r.o.UI.Infof("relayed %s (%s refused): %s (%s) to target, %s (%s) to clients in %s",
		plural(t.conns.Load(), "session"), plural(t.refused.Load(), "datagram"),
		plural(t.dgToTarget.Load(), "datagram"), bytesString(t.toTarget.Load()),
		plural(t.dgToClient.Load(), "datagram"), bytesString(t.toClient.Load()), roundDuration(time.Since(start)))
}
