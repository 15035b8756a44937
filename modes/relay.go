package modes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// RelayOptions configure relay mode: clients of the listening address
// (Server.Listen) are forwarded to Target. Server.TLSServer is the
// clients' side (--tls-listen), TLSClient Target's (--tls).
type RelayOptions struct {
	Server
	Target transport.Endpoint
	// TargetNetwork is Target's: "tcp" or "unix" when Network is "tcp"
	// or "unix" (a stream relay may join the two), "udp" with "udp"; ""
	// is Network.
	TargetNetwork string
	TLSClient     *tls.Config
	// Timeout bounds connecting to Target (-w) and each TLS handshake
	// (the clients': 10s when 0).
	Timeout time.Duration
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

// Relay listens on o.Listen and forwards every client to o.Target until
// interrupted, then reports totals and returns the interruption.
//
// Streams (TCP, Unix, either to either): each client gets its own
// connection to the target; bytes are copied both ways and a half-close
// (FIN) on either side is passed on to the other, whose direction keeps
// flowing until it ends too. A reset on one side resets the other (a Unix
// stream has no reset: it is closed). The "> " lines of --hex are what
// sonde sent to the target (client to target), the "< " lines what it
// received from the target (target to client).
//
// UDP: each client address gets a session: a socket connected to the
// target, through which its datagrams go, and from which replies come back
// to it through the listening socket. A session ends after IdleTimeout
// without a datagram either way.
func Relay(ctx context.Context, o *RelayOptions) error {
	r := &relay{o: o, ctx: ctx, upstream: o.Target.HostPort(), idle: o.IdleTimeout, targetNetwork: o.TargetNetwork,
		warnings: ui.Throttle{Interval: warnQuiet}}
	if r.targetNetwork == "" {
		r.targetNetwork = o.Network
	}
	streams := func(network string) bool { return network == "tcp" || network == "unix" }
	if !(streams(o.Network) && streams(r.targetNetwork)) && !(o.Network == "udp" && r.targetNetwork == "udp") {
		return &transport.InputError{Msg: fmt.Sprintf("relay forwards TCP or Unix streams, or UDP, not %s to %s",
			describeNetwork(o.Network), describeNetwork(r.targetNetwork))}
	}
	if r.targetNetwork == "unix" {
		r.upstream = o.Target.Host
		return r.serve(ctx)
	}
	// Resolve the target now: a mistake (-n with a name, -4 with an IPv6
	// address) is reported before anything listens. A TCP relay resolves
	// again for each client; a UDP relay keeps these addresses.
	var err error
	r.addrs, err = transport.Resolve(ctx, o.Target.Host, o.Target.Family, o.Target.Numeric)
	if err != nil {
		var in *transport.InputError
		if o.Network == "udp" || errors.As(err, &in) || context.Cause(ctx) != nil {
			return err
		}
		o.UI.Warnf("%s; trying again for each client", transport.Explain(err).Msg)
	}
	return r.serve(ctx)
}

// serve listens and relays until interrupted, then reports the totals.
func (r *relay) serve(ctx context.Context) error {
	o := r.o
	if o.Hex != nil && o.UI.Verbosity() >= 2 {
		o.Hex.StampChunks() // -vv: when and how much, chunk by chunk
	}
	start := time.Now()
	if o.Network == "udp" && r.idle <= 0 {
		r.idle = DefaultUDPRelayIdle
	}
	return serveOn(ctx, &o.Server, r.ready,
		func(pc net.PacketConn) error {
			err := r.serveDatagrams(pc)
			r.reportDatagrams(start)
			return err
		},
		func(ln net.Listener) error {
			err := r.serveStreams(ln)
			r.reportStreams(start)
			return err
		})
}

// relay is one running relay, TCP or UDP.
type relay struct {
	o             *RelayOptions
	ctx           context.Context
	upstream      string        // the target as the user named it, for messages
	targetNetwork string        // "tcp", "unix" or "udp"
	addrs         []netip.Addr  // the target's addresses, resolved at start
	idle          time.Duration // --idle-timeout, with UDP's default; 0: none
	totals        relayTotals
	hintOnce      sync.Once
	warnings      ui.Throttle // repeated failures to reach the target
	wg            sync.WaitGroup

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
		if int(bound.Port()) == r.o.Target.Port && (a == bound.Addr().Unmap() || bound.Addr().IsUnspecified() && a.IsLoopback()) {
			return &transport.InputError{Msg: fmt.Sprintf("relay target %s is the relay's own address %s", r.upstream, addr),
				Hint: "give the relay another port (or port 0), or the target another address"}
		}
	}
	if r.o.Network == "unix" && r.targetNetwork == "unix" && filepath.Clean(r.o.Listen.Host) == filepath.Clean(r.o.Target.Host) {
		return &transport.InputError{Msg: fmt.Sprintf("relay target %s is the relay's own socket", r.upstream),
			Hint: "give the relay another socket path, or the target another one"}
	}
	level := 1
	if r.o.Listen.Port == 0 && r.o.Network != "unix" {
		level = 0
	}
	r.o.UI.Verbosef(level, "listening on %s (%s), relaying to %s", addr, describeListener(&r.o.Server, addr), r.upstream)
	if r.o.OnReady != nil {
		r.o.OnReady(addr)
	}
	return nil
}

// dialOptions are how the relay reaches its target.
func (r *relay) dialOptions(network string, id int64) transport.DialOptions {
	return transport.DialOptions{
		Network: network, Timeout: r.o.Timeout,
		OnAttempt: func(addr string, err error) {
			r.o.UI.Verbosef(2, "conn %d: cannot connect to %s: %s", id, addr, transport.Explain(err).Msg)
		},
	}
}

// dialFailed reports a target that could not be reached. It is said
// always, not only with -v: every client of the relay is failing. The
// same failure again is held back for a while, then counted, so that a
// down target under a stream of clients does not flood stderr (the
// totals count every one).
func (r *relay) dialFailed(id int64, client string, err error) {
	r.totals.failed.Add(1)
	x := transport.Explain(err)
	if !r.o.UI.ThrottledWarnf(&r.warnings, x.Msg, "conn %d %s: %s", id, client, x.Msg) {
		return
	}
	for _, d := range x.Details {
		r.o.UI.Detailf("%s", d)
	}
	if x.Hint != "" {
		r.hintOnce.Do(func() { r.o.UI.Hintf("%s", x.Hint) })
	}
}

// stopAll cuts every connection and session and lets no new one open. A
// connection is reset both ways, as when one side fails: a client cut
// mid-answer must not take the end for a complete answer.
func (r *relay) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.release != nil {
		r.release.Stop()
	}
	for c := range r.conns {
		c.reset()
	}
	for _, s := range r.sessions {
		s.up.Close()
	}
}
