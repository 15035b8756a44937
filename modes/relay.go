package modes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// RelayOptions configure relay mode: clients of the listening address
// (Options.Target) are forwarded to Upstream.
//
// Of the embedded Options, relay reads Network ("tcp" or "udp"), Target,
// Family and Numeric (both sides), Timeout (-w: connecting to Upstream),
// MaxConns, Access, UI, Hex, OnReady, TLSServer (the clients' side) and
// TLSClient (Upstream's side).
type RelayOptions struct {
	Options
	Upstream transport.Target
	// IdleTimeout closes a connection (UDP: a session) through which no
	// byte has moved either way for this long. 0: never for TCP,
	// DefaultUDPRelayIdle for UDP, whose sessions must end some time.
	IdleTimeout time.Duration
}

// DefaultUDPRelayIdle is how long a UDP relay session outlives its last
// datagram when --idle-timeout is not given.
const DefaultUDPRelayIdle = 60 * time.Second

// relayTotals are what Ctrl-C reports.
type relayTotals struct {
	conns, refused, failed atomic.Int64
	toTarget, toClient     atomic.Int64 // bytes
	dgToTarget, dgToClient atomic.Int64 // datagrams
}

// Relay listens on o.Target and forwards every client to o.Upstream until
// interrupted, then reports totals and returns the interruption.
//
// TCP: each client gets its own connection to the target; bytes are
// copied both ways and a half-close (FIN) on either side is passed on to
// the other, whose direction keeps flowing until it ends too. A reset on
// one side resets the other. The "> " lines of --hex are what sonde sent
// to the target (client to target), the "< " lines what it received from
// the target (target to client).
//
// UDP: each client address gets a session: a socket connected to the
// target, through which its datagrams go, and from which replies come back
// to it through the listening socket. A session ends after IdleTimeout
// without a datagram either way.
func Relay(ctx context.Context, o *RelayOptions) error {
	if o.Network != "tcp" && o.Network != "udp" {
		return &transport.InputError{Msg: "relay forwards TCP or UDP, not " + describeNetwork(o.Network)}
	}
	port, err := transport.ParsePort(o.Upstream.Port, o.Network, false)
	if err != nil {
		return err
	}
	r := &relay{o: o, ctx: ctx, port: port, upstream: net.JoinHostPort(o.Upstream.Host, strconv.Itoa(port)), idle: o.IdleTimeout}
	// Resolve the target now: a mistake (-n with a name, -4 with an IPv6
	// address) is reported before anything listens. A TCP relay resolves
	// again for each client; a UDP relay keeps these addresses.
	r.addrs, err = transport.Resolve(ctx, o.Upstream.Host, o.Family, o.Numeric)
	if err != nil {
		var in *transport.InputError
		if o.Network == "udp" || errors.As(err, &in) || context.Cause(ctx) != nil {
			return err
		}
		o.UI.Warnf("%s; trying again for each client", transport.Explain(err).Msg)
	}
	lopts := transport.ListenOptions{Network: o.Network, Family: o.Family, Numeric: o.Numeric}
	start := time.Now()
	if o.Network == "udp" {
		if r.idle <= 0 {
			r.idle = DefaultUDPRelayIdle
		}
		pc, err := transport.ListenPacket(ctx, o.Target, lopts)
		if err != nil {
			return err
		}
		defer pc.Close()
		if err := r.ready(pc.LocalAddr()); err != nil {
			return err
		}
		err = r.serveDatagrams(pc)
		t := &r.totals
		o.UI.Infof("relayed %s (%s refused): %s (%s) to target, %s (%s) to clients in %s",
			plural(t.conns.Load(), "session"), plural(t.refused.Load(), "datagram"),
			plural(t.dgToTarget.Load(), "datagram"), bytesString(t.toTarget.Load()),
			plural(t.dgToClient.Load(), "datagram"), bytesString(t.toClient.Load()), time.Since(start).Round(time.Millisecond))
		return err
	}
	ln, err := transport.Listen(ctx, o.Target, lopts)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := r.ready(ln.Addr()); err != nil {
		return err
	}
	err = r.serveStreams(ln)
	t := &r.totals
	o.UI.Infof("relayed %s (%d refused, %d could not reach the target): %s to target, %s to clients in %s",
		plural(t.conns.Load(), "connection"), t.refused.Load(), t.failed.Load(), bytesString(t.toTarget.Load()),
		bytesString(t.toClient.Load()), time.Since(start).Round(time.Millisecond))
	return err
}

// relay is one running relay, TCP or UDP.
type relay struct {
	o        *RelayOptions
	ctx      context.Context
	port     int           // of the target
	upstream string        // the target as the user named it, for messages
	addrs    []netip.Addr  // the target's addresses, resolved at start
	idle     time.Duration // --idle-timeout, with UDP's default; 0: none
	totals   relayTotals
	hintOnce sync.Once
	wg       sync.WaitGroup

	mu       sync.Mutex
	release  *time.Timer              // TCP: runs releaseIdle once no connection is left
	stopped  bool                     // the context is done: open nothing new
	conns    map[*relayConn]struct{}  // TCP: connections being relayed
	sessions map[string]*relaySession // UDP: sessions by client address
	refusing map[string]bool          // UDP: refused senders already logged
}

// ready reports the bound address (always when port 0 chose it, as listen
// does) and refuses a relay to itself, which would loop until out of
// descriptors.
func (r *relay) ready(addr net.Addr) error {
	bound := addrPortOf(addr)
	for _, a := range r.addrs {
		if int(bound.Port()) == r.port && (a == bound.Addr().Unmap() || bound.Addr().IsUnspecified() && a.IsLoopback()) {
			return &transport.InputError{Msg: fmt.Sprintf("relay target %s is the relay's own address %s", r.upstream, addr),
				Hint: "give the relay another port (or port 0), or the target another address"}
		}
	}
	level := 1
	if r.o.Target.Port == "0" {
		level = 0
	}
	r.o.UI.Verbosef(level, "listening on %s (%s), relaying to %s", addr, r.o.Network, r.upstream)
	if r.o.OnReady != nil {
		r.o.OnReady(addr)
	}
	return nil
}

// dialOptions are how the relay reaches its target.
func (r *relay) dialOptions(network string, id int64) transport.DialOptions {
	return transport.DialOptions{
		Network: network, Family: r.o.Family, Numeric: r.o.Numeric, Timeout: r.o.Timeout,
		OnAttempt: func(addr string, err error) {
			r.o.UI.Verbosef(2, "conn %d: cannot connect to %s: %s", id, addr, transport.Explain(err).Msg)
		},
	}
}

// dialFailed reports a target that could not be reached. It is said
// always, not only with -v: every client of the relay is failing.
func (r *relay) dialFailed(id int64, client string, err error) {
	r.totals.failed.Add(1)
	x := transport.Explain(err)
	r.o.UI.Warnf("conn %d %s: %s", id, client, x.Msg)
	for _, d := range x.Details {
		r.o.UI.Detailf("%s", d)
	}
	if x.Hint != "" {
		r.hintOnce.Do(func() { r.o.UI.Hintf("%s", x.Hint) })
	}
}

// refuse tells whether the access list or --max-conns turns this client
// away, and logs it with -v. count is how many are being served now.
func (r *relay) refuse(addr net.Addr, count int, what string) bool {
	if ok, why := r.o.Access.Permits(addr); !ok {
		r.o.UI.Verbosef(1, "refused %s: %s", addrName(addr), why)
		return true
	}
	if r.o.MaxConns > 0 && count >= r.o.MaxConns {
		r.o.UI.Verbosef(1, "refused %s: %s relayed (--max-conns)", addrName(addr), plural(int64(r.o.MaxConns), what))
		return true
	}
	return false
}

// serveStreams accepts TCP clients until the context is done.
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
	for {
		conn, err := ln.Accept()
		if err != nil {
			if cause := context.Cause(r.ctx); cause != nil {
				return cause
			}
			if isTimeoutErr(err) {
				continue
			}
			if isTooManyFiles(err) {
				// Out of descriptors: shed load for a moment rather than spin.
				r.o.UI.Warnf("accept: %v; pausing 50ms", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return err
		}
		r.mu.Lock()
		var c *relayConn
		refused := r.stopped || r.refuse(conn.RemoteAddr(), len(r.conns), "connection")
		if !refused {
			ids++
			c = &relayConn{r: r, id: ids, rawClient: conn, started: time.Now()}
			r.conns[c] = struct{}{}
		}
		r.mu.Unlock()
		if refused {
			r.totals.refused.Add(1)
			conn.Close()
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

// stopAll closes every connection and session and lets no new one open.
func (r *relay) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.release != nil {
		r.release.Stop()
	}
	for c := range r.conns {
		c.close()
	}
	for _, s := range r.sessions {
		s.up.Close()
	}
}

// relayConn is one relayed TCP connection: a client and its connection
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
	lastActive         atomic.Int64 // UnixNano of the last byte moved either way
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
	for _, conn := range []net.Conn{c.rawClient, c.rawTarget} {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
	c.close()
}

func (c *relayConn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

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
	rawTarget, err := transport.Dial(r.ctx, o.Upstream, r.dialOptions("tcp", c.id))
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
	if tc, ok := c.rawClient.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}

// handshake runs TLS on conn when cfg is set: the server side with the
// client, the client side with the target. -vv describes the session. The
// handshake is bounded by -w, or 10s for the clients' side, so that a
// client that never speaks cannot hold a connection for ever.
func (c *relayConn) handshake(conn net.Conn, cfg *tls.Config, side string) (net.Conn, error) {
	if cfg == nil {
		return conn, nil
	}
	timeout := c.r.o.Timeout
	var tc *tls.Conn
	if side == "client" {
		tc = tls.Server(conn, cfg)
		if timeout == 0 {
			timeout = 10 * time.Second
		}
	} else {
		tc = tls.Client(conn, cfg)
	}
	if err := transport.Handshake(c.r.ctx, tc, timeout); err != nil {
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState()) {
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
	c.touch()
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
			src.SetReadDeadline(time.Unix(0, c.lastActive.Load()).Add(c.r.idle))
		}
		nr, err := src.Read(buf)
		if nr > 0 {
			c.touch()
			if c.hex != nil && from == "target" {
				c.hex.Received(buf[:nr])
			}
			nw, werr := dst.Write(buf[:nr])
			n.Add(int64(nw))
			total.Add(int64(nw))
			c.touch()
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
			if time.Since(time.Unix(0, c.lastActive.Load())) >= c.r.idle {
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

// relaySession is one UDP client and its socket connected to the target.
type relaySession struct {
	id      int64
	client  net.Addr
	name    string
	up      net.Conn
	hex     *transport.HexStream
	started time.Time

	lastActive             atomic.Int64 // UnixNano of the last datagram either way
	toTarget, toClient     atomic.Int64 // bytes
	dgToTarget, dgToClient atomic.Int64 // datagrams
}

func (s *relaySession) touch() { s.lastActive.Store(time.Now().UnixNano()) }

// serveDatagrams reads datagrams from clients and forwards each through
// its client's session until the context is done.
func (r *relay) serveDatagrams(pc net.PacketConn) error {
	r.sessions = make(map[string]*relaySession)
	r.refusing = make(map[string]bool)
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
	buf := make([]byte, 64<<10)
	var ids int64
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if cause := context.Cause(r.ctx); cause != nil {
				return cause
			}
			if isTimeoutErr(err) || errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			return err
		}
		key := from.String()
		r.mu.Lock()
		if r.stopped {
			r.mu.Unlock()
			continue
		}
		s := r.sessions[key]
		if s == nil {
			if r.refusedDatagram(from, key) {
				r.mu.Unlock()
				r.totals.refused.Add(1)
				continue
			}
			if s, err = r.openSession(pc, ids+1, from); err != nil {
				r.mu.Unlock()
				r.dialFailed(ids+1, key, err)
				continue
			}
			ids++
		}
		// Written under r.mu, so that the session cannot expire between
		// its last touch and this datagram.
		s.touch()
		w, werr := s.up.Write(buf[:n])
		r.mu.Unlock()
		if werr != nil {
			r.o.UI.Verbosef(1, "conn %d %s: cannot send %d bytes to target %s: %s", s.id, s.name, n, r.upstream, transport.Explain(werr).Msg)
			continue
		}
		s.toTarget.Add(int64(w))
		s.dgToTarget.Add(1)
		r.totals.toTarget.Add(int64(w))
		r.totals.dgToTarget.Add(1)
		r.o.UI.Verbosef(2, "conn %d: %d bytes from %s to target", s.id, w, s.name)
		if s.hex != nil {
			s.hex.Note("datagram of %d bytes from %s to target", w, s.name)
			s.hex.Sent(buf[:w])
		}
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
	t := transport.Target{Host: addr.String(), Port: strconv.Itoa(r.port)}
	up, err := transport.Dial(r.ctx, t, r.dialOptions("udp", id))
	if err != nil {
		return nil, err
	}
	s := &relaySession{id: id, client: from, name: from.String(), up: up, started: time.Now()}
	s.touch()
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
		s.up.SetReadDeadline(time.Unix(0, s.lastActive.Load()).Add(r.idle))
		n, err := s.up.Read(buf)
		if err == nil {
			s.touch()
			w, werr := pc.WriteTo(buf[:n], s.client)
			if werr != nil {
				o.UI.Verbosef(1, "conn %d: cannot send %d bytes to %s: %s", s.id, n, s.name, transport.Explain(werr).Msg)
				continue
			}
			s.toClient.Add(int64(w))
			s.dgToClient.Add(1)
			r.totals.toClient.Add(int64(w))
			r.totals.dgToClient.Add(1)
			o.UI.Verbosef(2, "conn %d: %d bytes from target to %s", s.id, w, s.name)
			if s.hex != nil {
				s.hex.Note("datagram of %d bytes from target to %s", w, s.name)
				s.hex.Received(buf[:w])
			}
			continue
		}
		if isTimeoutErr(err) {
			r.mu.Lock()
			idle := time.Since(time.Unix(0, s.lastActive.Load())) >= r.idle
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
