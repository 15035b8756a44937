package modes

// The stream relay (TCP and Unix, either to either): a connection to the
// target for each client, bytes copied both ways, half-closes and resets
// passed on.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// serveStreams accepts stream clients until the context is done.
func (r *relay) serveStreams(ln net.Listener) error {
	r.conns = make(map[*relayConn]struct{})
	stop := context.AfterFunc(r.ctx, func() {
		ln.Close()
		r.stopAll()
	})
	defer stop()
	defer func() {
		r.stopAll() // also when Accept failed for good: the goroutines must end
		r.wg.Wait()
	}()
	var ids int64
	clients := newAcceptor(ln, r.o.UI)
	for {
		conn, err := clients.accept(r.ctx)
		if err != nil {
			if cause := context.Cause(r.ctx); cause != nil {
				return cause
			}
			return err
		}
		r.mu.Lock()
		var c *relayConn
		stopped, why := r.stopped, ""
		if !stopped {
			why = refusal(r.o.Access, conn, r.o.MaxConns, len(r.conns), "connection", "relayed")
		}
		if !stopped && why == "" {
			ids++
			c = &relayConn{r: r, id: ids, rawClient: conn, started: time.Now()}
			r.conns[c] = struct{}{}
		}
		r.mu.Unlock()
		if c == nil {
			r.totals.refused.Add(1)
			if stopped {
				conn.Close()
			} else {
				turnAway(r.o.UI, conn, why)
			}
			continue
		}
		r.totals.conns.Add(1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			c.run()
			r.mu.Lock()
			delete(r.conns, c)
			if len(r.conns) == 0 && !r.stopped {
				r.scheduleRelease()
			}
			r.mu.Unlock()
		}()
	}
}

// releaseAfter is how long the relay must have had no connection before
// releaseIdle runs.
const releaseAfter = 2 * time.Second

// scheduleRelease arranges for releaseIdle to run once the relay has had
// no connection for releaseAfter. Called under r.mu.
func (r *relay) scheduleRelease() {
	if r.release == nil {
		r.release = time.AfterFunc(releaseAfter, r.releaseIdle)
		return
	}
	r.release.Reset(releaseAfter)
}

// releaseIdle hands back the descriptors a busy spell left cached. io.Copy
// between two TCP sockets splices through a pipe (two descriptors) per
// direction, and Go keeps those pipes in a pool that only garbage
// collection empties: after 1000 concurrent connections an idle relay
// would hold 4000 pipe descriptors until the runtime next collected,
// which an idle process may not do for minutes. Two collections empty the
// pool (and its victim cache), and the pipes are closed.
func (r *relay) releaseIdle() {
	r.mu.Lock()
	busy := len(r.conns) > 0 || r.stopped
	r.mu.Unlock()
	if !busy {
		runtime.GC()
		runtime.GC()
	}
}

// relayConn is one relayed stream connection: a client and its connection
// to the target. The raw sockets are what stopping and aborting close;
// TLS, when on, wraps them for the copy.
type relayConn struct {
	r         *relay
	id        int64
	rawClient net.Conn
	rawTarget net.Conn // nil until connected; set under r.mu
	started   time.Time
	hex       *transport.HexStream

	toTarget, toClient atomic.Int64
	active             activity // the last byte moved either way, for --idle-timeout
}

// close ends both sides; the copies see it and return. Called under r.mu.
func (c *relayConn) close() {
	c.rawClient.Close()
	if c.rawTarget != nil {
		c.rawTarget.Close()
	}
}

// abort resets both sides, so that a reset on one reaches the other
// instead of passing for an orderly end.
func (c *relayConn) abort() {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	c.reset()
}

// reset closes both sides with a reset. Called under r.mu.
func (c *relayConn) reset() {
	resetOnClose(c.rawClient)
	resetOnClose(c.rawTarget) // nil until connected: nothing to do
	c.close()
}

func (c *relayConn) run() {
	r, o := c.r, c.r.o
	defer c.rawClient.Close()
	name := clientName(c.rawClient)
	o.UI.Verbosef(2, "conn %d: accepted %s", c.id, name)
	client, err := c.handshake(c.rawClient, o.TLSServer, "client")
	if err != nil {
		if context.Cause(r.ctx) == nil {
			o.UI.Verbosef(1, "conn %d %s: %s", c.id, name, transport.Explain(err).Msg)
		}
		return
	}
	rawTarget, err := transport.Dial(r.ctx, o.Target, r.dialOptions(r.targetNetwork, c.id))
	if err != nil {
		c.unreachable(name, err)
		return
	}
	defer rawTarget.Close()
	r.mu.Lock()
	c.rawTarget = rawTarget
	stopped := r.stopped
	r.mu.Unlock()
	if stopped {
		return
	}
	target, err := c.handshake(rawTarget, o.TLSClient, "target")
	if err != nil {
		c.unreachable(name, err)
		return
	}
	where := fmt.Sprintf("%s → target %s", name, peerName(rawTarget))
	o.UI.Verbosef(2, "conn %d: connected to %s from %s in %s", c.id, peerName(rawTarget), rawTarget.LocalAddr(),
		roundDuration(time.Since(c.started)))
	o.UI.Verbosef(1, "conn %d %s: open", c.id, where)
	if o.Hex != nil {
		c.hex = o.Hex.Stream(c.id, true, where)
	}
	err = c.copyBoth(client, target)
	counts := fmt.Sprintf("%s to target, %s to client in %s", bytesString(c.toTarget.Load()),
		bytesString(c.toClient.Load()), roundDuration(time.Since(c.started)))
	switch {
	case err == nil:
		o.UI.Verbosef(1, "conn %d %s: closed; %s", c.id, where, counts)
	case errors.Is(err, errRelayIdle):
		o.UI.Verbosef(1, "conn %d %s: idle for %s, closed; %s", c.id, where, c.r.idle, counts)
	case context.Cause(r.ctx) != nil:
		o.UI.Verbosef(1, "conn %d %s: interrupted; %s", c.id, where, counts)
	default:
		o.UI.Verbosef(1, "conn %d %s: %v; %s", c.id, where, err, counts)
	}
}

// unreachable reports a target that could not be reached (always, not
// only with -v), and resets the client: an orderly close would pass for
// an empty answer from the target.
func (c *relayConn) unreachable(name string, err error) {
	if context.Cause(c.r.ctx) != nil {
		return
	}
	c.r.dialFailed(c.id, name, err)
	resetOnClose(c.rawClient)
}

// handshake runs TLS on conn when cfg is set: the server side with the
// client, the client side with the target. -vv describes the session. The
// handshake is bounded by -w, or 10s for the clients' side and 15s for the
// target's, so that a peer that never speaks cannot hold a connection for
// ever.
func (c *relayConn) handshake(conn net.Conn, cfg *tls.Config, side string) (net.Conn, error) {
	if cfg == nil {
		return conn, nil
	}
	timeout := c.r.o.Timeout
	var (
		tc  *tls.Conn
		err error
	)
	if side == "client" {
		tc = tls.Server(conn, cfg)
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		err = transport.ServerHandshake(c.r.ctx, tc, timeout)
	} else {
		tc = tls.Client(conn, cfg)
		err = transport.Handshake(c.r.ctx, tc, clientHandshakeTimeout(c.r.o.Timeout))
	}
	if err != nil {
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState(), transport.VerifiesPeer(cfg, side == "client")) {
		c.r.o.UI.Verbosef(2, "conn %d: %s %s", c.id, side, l)
	}
	return tc, nil
}

// errRelayIdle ends a connection through which nothing moved for
// --idle-timeout.
var errRelayIdle = errors.New("idle")

// copyBoth copies both ways until both directions have ended. Each
// direction passes its EOF on as a half-close; the first error (a reset,
// an idle timeout) ends both directions at once.
func (c *relayConn) copyBoth(client, target net.Conn) error {
	t := &c.r.totals
	c.active.touch()
	errc := make(chan error, 2)
	go func() { errc <- c.pipe(target, client, c.rawTarget, &c.toTarget, &t.toTarget, "client", "target") }()
	go func() { errc <- c.pipe(client, target, c.rawClient, &c.toClient, &t.toClient, "target", "client") }()
	var first error
	for range 2 {
		err := <-errc
		if err == nil || first != nil {
			continue
		}
		first = err
		if errors.Is(err, errRelayIdle) {
			c.r.mu.Lock()
			c.close()
			c.r.mu.Unlock()
		} else {
			c.abort()
		}
	}
	return first
}

// pipe copies src to dst, then half-closes dst. Without --hex and an idle
// timeout, io.Copy moves the bytes, which lets Linux splice them from
// socket to socket without a trip through user space. n and total count
// the bytes written to dst. rawDst is dst's socket under TLS, if any.
func (c *relayConn) pipe(dst, src, rawDst net.Conn, n, total *atomic.Int64, from, to string) error {
	o := c.r.o
	if o.Hex == nil && c.r.idle <= 0 {
		w, err := io.Copy(dst, src)
		n.Add(w)
		total.Add(w)
		if err != nil {
			return sideError(err, from, to)
		}
		halfClose(dst, rawDst)
		return nil
	}
	buf := make([]byte, 32<<10)
	for {
		if c.r.idle > 0 {
			src.SetReadDeadline(c.active.deadline(c.r.idle))
		}
		nr, err := src.Read(buf)
		if nr > 0 {
			c.active.touch()
			if c.hex != nil && from == "target" {
				c.hex.Received(buf[:nr])
			}
			nw, werr := dst.Write(buf[:nr])
			n.Add(int64(nw))
			total.Add(int64(nw))
			c.active.touch()
			if c.hex != nil && to == "target" {
				c.hex.Sent(buf[:nw])
			}
			if werr != nil {
				return &relaySideError{side: to, err: werr}
			}
		}
		switch {
		case err == nil:
		case err == io.EOF:
			halfClose(dst, rawDst)
			return nil
		case c.r.idle > 0 && isTimeoutErr(err):
			if _, idle := c.active.idle(c.r.idle); idle {
				return errRelayIdle
			}
		default:
			return &relaySideError{side: from, err: err}
		}
	}
}

// relaySideError tells which side of a relayed connection failed.
type relaySideError struct {
	side string // "client", "target", or "" when the error does not say
	err  error
}

func (e *relaySideError) Error() string {
	if e.side == "" {
		return transport.Explain(e.err).Msg
	}
	return e.side + ": " + transport.Explain(e.err).Msg
}

func (e *relaySideError) Unwrap() error { return e.err }

// sideError blames the side io.Copy's error came from when the error
// says; a splice failure does not (it is the same errno either way).
func sideError(err error, from, to string) error {
	var op *net.OpError
	if errors.As(err, &op) {
		switch op.Op {
		case "read":
			return &relaySideError{side: from, err: err}
		case "write":
			return &relaySideError{side: to, err: err}
		}
	}
	return &relaySideError{err: err}
}

// reportStreams sums up a stream relay at its end.
func (r *relay) reportStreams(start time.Time) {
	t := &r.totals
	r.o.UI.Infof("relayed %s (%d refused, %d could not reach the target): %s to target, %s to clients in %s",
		plural(t.conns.Load(), "connection"), t.refused.Load(), t.failed.Load(), bytesString(t.toTarget.Load()),
		bytesString(t.toClient.Load()), roundDuration(time.Since(start)))
}
