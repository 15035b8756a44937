package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// PortState is what one probe learned about a port, as a scan prints it.
type PortState string

const (
	// Open: a TCP handshake completed, or a UDP reply came back.
	Open PortState = "open"
	// Closed: the host refused (TCP reset, ICMP port unreachable).
	Closed PortState = "closed"
	// Filtered: no answer within the timeout, or an ICMP error saying
	// the host or the port may not be reached (prohibited, unreachable).
	Filtered PortState = "filtered"
	// OpenFiltered: UDP silence, which an open port that ignores the
	// probe and a firewall dropping it look exactly alike.
	OpenFiltered PortState = "open|filtered"
	// Unreachable: this host cannot send to the address at all (no
	// route to it, no IPv6): nothing left, so nothing is known of the
	// port there, and other addresses of the name decide it.
	Unreachable PortState = "unreachable"
)

// ProbeOptions are the settings of one probe.
type ProbeOptions struct {
	Source  netip.Addr    // local address to bind; the zero Addr for any
	Timeout time.Duration // how long to wait for an answer; must be positive
	// Retries is how many more times ProbeTCP and ProbeUDP probe a port
	// that stayed silent for Timeout, as nmap retransmits: one lost
	// packet must not pass for a firewall. ProbeTCP makes a fresh connect
	// each time; ProbeUDP sends the datagram again on the same socket, so
	// a late reply to an earlier one still counts. An answer of any kind
	// (a handshake, a reset, an ICMP error, a reply) ends the probe at once.
	Retries int
}

// ProbeResult is the outcome of a probe that learned something about the
// port. Local failures (no file descriptors left, ...) are errors instead.
type ProbeResult struct {
	State PortState
	// RTT is the time from the connect (or send) to the answer: the
	// handshake, the refusal or the reply. It is zero when no answer came.
	RTT time.Duration
	// Why says, for a port that is not open, what the probe saw:
	// "connection refused", "no answer within 1s", ...
	Why string

	silent bool // no answer came within the timeout: worth probing again
	// maybeLocal: the connect failed as unreachable, which this host's
	// routing says as readily as a router's ICMP error.
	maybeLocal bool
}

// noAnswer is the Why of a port that stayed silent through every probe.
func noAnswer(what string, probes int, timeout time.Duration) string {
	if probes == 1 {
		return "no " + what + " within " + timeout.String()
	}
	return fmt.Sprintf("no %s to %d probes, %s each", what, probes, timeout)
}

// ProbeTCP tries a TCP handshake with addr and closes the connection at
// once, without sending data. A probe that connects to itself (on a
// loopback address, when the kernel picks the destination port as the
// ephemeral source port) is reported closed: nothing listens there, or the
// kernel could not have chosen that port. The error is non-nil only when
// the probe could not be made (ctx ended, a local resource ran out); it is
// then a *DialError, or the cause of ctx.
//
// A port that stays silent gets o.Retries more connects, each with a
// socket of its own (a new source port) and the whole o.Timeout.
func ProbeTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (ProbeResult, error) {
	res, wait, err := BeginProbeTCP(ctx, addr, o)
	if wait != nil {
		return wait()
	}
	return res, err
}

// BeginProbeTCP is ProbeTCP in two halves: it makes the first connect
// and returns its outcome when the kernel answered at once, as it does
// on loopback; otherwise it returns wait, which waits for the answer and
// makes the retries of a silent port. A scan can so make the quick
// probes one after another on one goroutine, and give a goroutine only
// to those that wait.
func BeginProbeTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (ProbeResult, func() (ProbeResult, error), error) {
	return BeginProbeTCPWith(ctx, addr, o, nil)
}

// ProbeSockets keeps the socket a refused probe leaves, for the next
// probe of the same goroutine: on Linux a socket whose connect was
// refused can connect again, which spares making and closing one for
// each closed port (on loopback, two system calls a closed port instead
// of four). The zero value is ready to use; Close releases what it
// keeps. It is not safe for concurrent use.
type ProbeSockets struct {
	fd   [2]int // by family: IPv4, IPv6
	kept [2]bool
}

// BeginProbeTCPWith is BeginProbeTCP making its first connect on a socket
// of s, if it keeps one (s may be nil). The retries of a silent port,
// made by wait, use sockets of their own.
func BeginProbeTCPWith(ctx context.Context, addr netip.AddrPort, o ProbeOptions, s *ProbeSockets) (ProbeResult, func() (ProbeResult, error), error) {
	res, wait, err := startProbeTCP(ctx, addr, o, s)
	if wait == nil && (err != nil || !res.silent) {
		return res, nil, err
	}
	return ProbeResult{}, func() (ProbeResult, error) {
		for probes := 1; ; probes++ {
			if wait != nil {
				res, err = wait()
			}
			if err != nil || !res.silent || probes > o.Retries {
				if res.silent {
					res.Why = noAnswer("answer", probes, o.Timeout)
				}
				return res, err
			}
			res, wait, err = StartProbeTCP(ctx, addr, o)
		}
	}, nil
}

// StartProbeTCP begins ProbeTCP and finishes it at once when the kernel
// has already answered, as it does on loopback; otherwise it returns
// wait, which blocks until the answer or the timeout. A caller that times
// probes on a schedule can so begin each one on its own goroutine and hand
// only the waiting to another: a goroutine started for the probe may run
// on a CPU just woken from idle, and that adds tens of microseconds to a
// loopback handshake.
func StartProbeTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (res ProbeResult, wait func() (ProbeResult, error), err error) {
	return startProbeTCP(ctx, addr, o, nil)
}

func startProbeTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions, s *ProbeSockets) (res ProbeResult, wait func() (ProbeResult, error), err error) {
	if ctx.Err() != nil {
		return ProbeResult{}, nil, context.Cause(ctx)
	}
	// A fresh ephemeral port can still collide (EADDRNOTAVAIL) under
	// heavy load; Go's own dialer retries those too.
	for range 3 {
		res, wait, err = startTCP(ctx, addr, o, s)
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
			break
		}
	}
	if err != nil {
		res, err = probeFailure(ctx, "tcp", addr, o, err)
		return res, nil, err
	}
	if wait != nil {
		inner := wait
		wait = func() (ProbeResult, error) {
			res, err := inner()
			if err != nil {
				return probeFailure(ctx, "tcp", addr, o, err)
			}
			return fromHere(res, addr, o), nil
		}
	}
	return fromHere(res, addr, o), wait, nil
}

// fromHere turns an unreachable outcome into Unreachable when this host
// has no route to addr: the kernel refused to send, no router answered.
// An ICMP error from the path, with a route here, stays filtered.
func fromHere(res ProbeResult, addr netip.AddrPort, o ProbeOptions) ProbeResult {
	if res.maybeLocal && NoRoute(addr.Addr(), o.Source) {
		return ProbeResult{State: Unreachable, Why: "no route from here"}
	}
	return res
}

// probeFailure is what a probe that could not be made returns: the
// source that could not be bound; Unreachable when this host cannot
// send to addr at all (no IPv6, no address to send from); else
// probeError.
func probeFailure(ctx context.Context, network string, addr netip.AddrPort, o ProbeOptions, err error) (ProbeResult, error) {
	if se := sourceFailure(network, err); se != nil && context.Cause(ctx) == nil {
		return ProbeResult{}, se
	}
	if context.Cause(ctx) == nil && errors.Is(err, syscall.EADDRNOTAVAIL) && cannotSendTo(addr.Addr()) {
		why := "no route from here"
		if addr.Addr().Is6() && !addr.Addr().Is4In6() {
			why = whyNoIPv6
		}
		return ProbeResult{State: Unreachable, Why: why}, nil
	}
	return ProbeResult{}, probeError(ctx, network, addr, o, err)
}

const whyNoIPv6 = "this machine has no IPv6 connectivity"

// cannotSendTo tells whether this host has no address to send to addr
// from, or no route to it: a UDP connect, which sends nothing, fails.
// A local port shortage, the other cause of EADDRNOTAVAIL, leaves it
// working.
func cannotSendTo(addr netip.Addr) bool {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 9)))
	if err != nil {
		return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENETUNREACH) || isUnreachable(err)
	}
	c.Close()
	return false
}

// probeError is what a probe that could not be made returns: the cause of
// ctx if it ended, else a *DialError that Explain words.
func probeError(ctx context.Context, network string, addr netip.AddrPort, o ProbeOptions, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return &DialError{Network: network, Target: addr.String(),
		Attempts: []Attempt{{Addr: addr.String(), Err: err}}, Timeout: o.Timeout}
}

// probeTCPDial is the portable probe: Go's dialer, timed from the moment
// the socket is ready to connect, so socket creation is not counted.
func probeTCPDial(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (ProbeResult, error) {
	d := net.Dialer{Timeout: o.Timeout}
	if o.Source.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(o.Source, 0))
	}
	var start time.Time
	d.ControlContext = func(context.Context, string, string, syscall.RawConn) error {
		start = time.Now() // called for each socket, just before connect
		return nil
	}
	c, err := d.DialContext(ctx, "tcp", addr.String())
	rtt := time.Since(start)
	if se := sourceFailure("tcp", err); se != nil {
		return ProbeResult{}, se
	}
	if err != nil {
		return classifyConnect(err, rtt, o.Timeout)
	}
	defer c.Close()
	if IsSelfConnect(c) {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // leave no TIME_WAIT behind on the target's port
		}
		return ProbeResult{State: Closed, RTT: rtt, Why: whySelfConnect}, nil
	}
	return ProbeResult{State: Open, RTT: rtt}, nil
}

const whySelfConnect = "nothing listens: the probe was given this very port as its source port and connected to itself"

// classifyConnect turns a failed connect into a port state, or returns the
// error when it says nothing about the port.
func classifyConnect(err error, rtt, timeout time.Duration) (ProbeResult, error) {
	why, _ := reason(err, timeout)
	switch {
	case isRefused(err), errors.Is(err, syscall.ECONNRESET):
		return ProbeResult{State: Closed, RTT: rtt, Why: why}, nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, syscall.ETIMEDOUT), isConnectTimeout(err):
		return ProbeResult{State: Filtered, Why: why, silent: true}, nil
	case isUnreachable(err):
		return ProbeResult{State: Filtered, RTT: rtt, Why: why, maybeLocal: true}, nil
	}
	return ProbeResult{}, err
}

// isUnreachable reports ICMP errors (host or network unreachable,
// communication administratively prohibited) and local firewall refusals:
// something in the way, not the host, answered.
func isUnreachable(err error) bool {
	return errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || isUnreachableOS(err)
}

// isConnectTimeout reports a timeout of the net package. EAGAIN also
// says Timeout() but means something else, so it is excluded.
func isConnectTimeout(err error) bool {
	return isTimeout(err) && !errors.Is(err, syscall.EAGAIN)
}

// udpProbePayload is what a UDP probe sends: an empty datagram, as nmap
// does for ports it has no protocol-specific payload for.
var udpProbePayload = []byte{}

// ProbeUDP sends an empty datagram to addr and waits for a reply: a reply
// means open, ICMP port unreachable closed, other ICMP errors filtered, and
// silence open|filtered. Silence gets the datagram again, o.Retries more
// times, each followed by the whole o.Timeout; the round-trip time is
// from the last datagram sent. Like ProbeTCP, the error is for local
// failures.
func ProbeUDP(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (ProbeResult, error) {
	if err := context.Cause(ctx); err != nil {
		return ProbeResult{}, err
	}
	var laddr *net.UDPAddr
	if o.Source.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(o.Source, 0))
	}
	c, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(addr))
	if se := sourceFailure("udp", err); se != nil {
		return ProbeResult{}, se
	}
	if err != nil && isUnreachable(err) {
		// No route: the kernel says so at connect, and nothing was sent.
		return ProbeResult{State: Unreachable, Why: "no route from here"}, nil
	}
	if err != nil {
		return probeFailure(ctx, "udp", addr, o, err)
	}
	defer c.Close()
	if IsSelfConnect(c) {
		// The kernel never hands out a UDP port something is bound to.
		return ProbeResult{State: Closed, Why: whySelfConnect}, nil
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var start time.Time
	probes := 0
	for {
		probes++
		start = time.Now()
		c.SetDeadline(start.Add(o.Timeout))
		if err = context.Cause(ctx); err != nil {
			break // ended before this deadline was set, which replaced the one that ends the wait
		}
		_, err = c.Write(udpProbePayload)
		if err == nil {
			if testHookProbeWait != nil {
				if rc, rerr := c.SyscallConn(); rerr == nil {
					rc.Control(func(fd uintptr) { testHookProbeWait(int(fd), start.Add(o.Timeout)) })
				}
			}
			buf := make([]byte, 512)
			_, err = c.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) && context.Cause(ctx) == nil {
				// One last look: a reply (or ICMP error) that came in
				// time may still be queued when this goroutine ran late
				// (a loaded machine), and it must not pass for silence.
				err = lastLookUDP(c, buf, err)
			}
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || probes > o.Retries {
			break
		}
	}
	rtt := time.Since(start)
	switch {
	case err == nil:
		return ProbeResult{State: Open, RTT: rtt}, nil
	case context.Cause(ctx) != nil:
		return ProbeResult{}, context.Cause(ctx)
	case IsPortUnreachable(err):
		return ProbeResult{State: Closed, RTT: rtt, Why: "ICMP port unreachable"}, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ProbeResult{State: OpenFiltered, Why: noAnswer("reply", probes, o.Timeout), silent: true}, nil
	case isUnreachable(err):
		why, _ := reason(err, o.Timeout)
		return fromHere(ProbeResult{State: Filtered, RTT: rtt, Why: why, maybeLocal: true}, addr, o), nil
	}
	return ProbeResult{}, probeError(ctx, "udp", addr, o, err)
}

// testHookProbeWait, when set by a test, runs between sending a probe
// (a datagram, a connect in progress) and waiting for its answer, with
// the probe's socket and deadline.
var testHookProbeWait func(fd int, deadline time.Time)

// IsSelfConnect tells whether c is connected to itself: its local and
// remote addresses are the same. On loopback this happens when the kernel
// picks the destination port as the ephemeral source port (TCP
// simultaneous open, or a UDP socket that receives its own datagrams); it
// must never pass for a peer.
func IsSelfConnect(c net.Conn) bool {
	l, r := c.LocalAddr(), c.RemoteAddr()
	return l != nil && r != nil && l.Network() == r.Network() && l.String() == r.String()
}

func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || isRefusedOS(err)
}

// IsPortUnreachable reports an ICMP port unreachable as a connected UDP
// socket sees it: ECONNREFUSED on a read or write (Windows: a reset).
func IsPortUnreachable(err error) bool {
	return isRefused(err) || errors.Is(err, syscall.ECONNRESET)
}

// NoRoute tells whether this host has no route to addr (from src, when
// valid): connecting a UDP socket, which sends nothing, fails with
// network or host unreachable, or a route that prohibits it. A probe that
// was then called filtered never left this host, and says nothing of a
// firewall on the way.
func NoRoute(addr, src netip.Addr) bool {
	var laddr *net.UDPAddr
	if src.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	c, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 9)))
	if err != nil {
		return isUnreachable(err)
	}
	c.Close()
	return false
}

// UnreachableError is the error of probes of host:port (Unreachable on
// every address in addrs) that could not be sent at all: worded as
// connect mode words a connect the kernel refused for want of a route,
// or of IPv6.
func UnreachableError(network, host string, port int, addrs []netip.Addr) error {
	de := &DialError{Network: network, Target: net.JoinHostPort(host, strconv.Itoa(port))}
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		de.Attempts = append(de.Attempts, Attempt{Addr: ap.String(), Err: &net.OpError{Op: "dial", Net: network,
			Addr: net.TCPAddrFromAddrPort(ap), Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}})
	}
	return de
}
