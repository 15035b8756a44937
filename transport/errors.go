package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DialError reports a connect that failed on every address it tried.
type DialError struct {
	Network  string // "tcp", "udp", "unix", "unixgram"
	Target   string // host and port (or path) as the user gave them
	Attempts []Attempt
	Timeout  time.Duration // the connect timeout in force, 0 for none
}

// Attempt is one address tried while connecting, and how it failed.
type Attempt struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		parts[i] = a.Addr + ": " + rootCause(a.Err).Error()
	}
	return fmt.Sprintf("cannot connect to %s: %s", e.Target, strings.Join(parts, "; "))
}

func (e *DialError) Unwrap() error {
	if len(e.Attempts) == 0 {
		return nil
	}
	return e.Attempts[len(e.Attempts)-1].Err
}

// ListenError reports a socket that could not be bound or listened on.
type ListenError struct {
	Network string
	Addr    string // "127.0.0.1:8080", "[::]:8080" or a socket path
	Port    int
	Err     error
	Holder  *Holder // who holds the port, when the OS lets us see it
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("cannot listen on %s: %s", e.Addr, rootCause(e.Err))
}

func (e *ListenError) Unwrap() error { return e.Err }

// ResolveError reports a name that could not be turned into addresses.
type ResolveError struct {
	Host    string
	Family  int // 0, 4 or 6: what -4/-6 asked for
	Err     error
	Timeout time.Duration // -w, when it cut the lookup short
	// Bound names the flag whose Timeout cut the lookup short when it is
	// not -w: "--timeout" for wait, whose whole run ran out.
	Bound string
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("cannot resolve %s: %v", e.Host, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// StreamError reports a connection that broke after it was established.
type StreamError struct {
	Peer     string
	Network  string
	Received int64 // bytes received before the failure
	Sent     int64 // bytes sent before the failure
	Err      error
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("connection to %s failed after %d bytes received: %v", e.Peer, e.Received, rootCause(e.Err))
}

func (e *StreamError) Unwrap() error { return e.Err }

// IdleError reports a session closed because nothing moved for too long.
type IdleError struct {
	Peer string
	Idle time.Duration
}

func (e *IdleError) Error() string {
	return fmt.Sprintf("no data to or from %s for %s", e.Peer, e.Idle)
}

// Explanation is what sonde tells the user about a failure.
type Explanation struct {
	Msg     string   // one line: what failed, on which address, why
	Details []string // further lines, e.g. every address tried
	Hint    string   // what to try; may be empty
	Usage   bool     // the user's input was at fault (exit 2)
}

// Explain turns any error sonde can meet into an Explanation. It classifies
// errors once, by their type and errno, so every mode words them alike.
func Explain(err error) Explanation {
	var (
		in  *InputError
		de  *DialError
		le  *ListenError
		re  *ResolveError
		se  *StreamError
		src *SourceError
		ie  *IdleError
		te  *TLSError
		pe  *ProxyError
		dns *net.DNSError
		at  *LineError
	)
	switch {
	case errors.As(err, &at): // before what it wraps, whose words it keeps
		x := Explain(at.Err)
		x.Msg = at.Where + ": " + x.Msg
		return x
	case errors.As(err, &in):
		return Explanation{Msg: in.Msg, Hint: in.Hint, Usage: true}
	case errors.As(err, &pe): // before the dial errors it may wrap
		return explainProxy(pe)
	case errors.As(err, &te):
		return explainTLS(te)
	case errors.As(err, &re):
		return explainResolve(re)
	case errors.As(err, &de):
		return explainDial(de)
	case errors.As(err, &src): // after the DialError that may list it among other failures
		why, hint := sourceReason(src)
		return Explanation{Msg: why, Hint: hint}
	case errors.As(err, &le):
		return explainListen(le)
	case errors.As(err, &se):
		return explainStream(se)
	case errors.As(err, &ie):
		return Explanation{Msg: ie.Error() + ", closing",
			Hint: "-w sets how long a quiet connection may stay open; use -q to quit a set time after stdin ends"}
	case errors.As(err, &dns):
		return explainResolve(&ResolveError{Host: dns.Name, Err: dns})
	}
	why, hint := reason(err, 0)
	return Explanation{Msg: why, Hint: hint}
}

func explainResolve(e *ResolveError) Explanation {
	var dns *net.DNSError
	x := Explanation{}
	switch {
	case errors.As(e.Err, &dns) && dns.IsNotFound:
		x.Msg = fmt.Sprintf("cannot resolve %s: no such host", e.Host)
		x.Hint = "check the spelling; the resolver answered that the name does not exist"
	case errors.As(e.Err, &dns) && dns.IsTimeout && e.Timeout > 0 && e.Bound != "":
		x.Msg = fmt.Sprintf("cannot resolve %s: the resolver did not answer before %s (%s) ran out", e.Host, e.Bound, e.Timeout)
		x.Hint = "check the DNS servers in /etc/resolv.conf, give a numeric address, or a longer " + e.Bound
	case errors.As(e.Err, &dns) && dns.IsTimeout && e.Timeout > 0:
		x.Msg = fmt.Sprintf("cannot resolve %s: the resolver did not answer within %s (-w)", e.Host, e.Timeout)
		x.Hint = "check the DNS servers in /etc/resolv.conf, give a numeric address, or a longer -w"
	case errors.As(e.Err, &dns) && dns.IsTimeout:
		x.Msg = fmt.Sprintf("cannot resolve %s: the resolver did not answer in time", e.Host)
		x.Hint = "check the DNS servers in /etc/resolv.conf, or give a numeric address"
	case errors.Is(e.Err, errNoAddrOfFamily):
		x.Msg = fmt.Sprintf("cannot resolve %s: it has no IPv%d address", e.Host, e.Family)
		x.Hint = fmt.Sprintf("drop -%d, or use the other address family", e.Family)
	case errors.As(e.Err, &dns) && strings.Contains(dns.Err, "server misbehaving"):
		x.Msg = fmt.Sprintf("cannot resolve %s: the DNS server answered with a failure (SERVFAIL)", e.Host)
		x.Hint = "the name's DNS servers are broken or unreachable from the resolver; try again later or give a numeric address"
	case errors.As(e.Err, &dns):
		x.Msg = fmt.Sprintf("cannot resolve %s: the resolver could not be reached (%s)", e.Host, dns.Err)
		x.Hint = "check the DNS servers in /etc/resolv.conf, or give a numeric address with -n"
	default:
		x.Msg = fmt.Sprintf("cannot resolve %s: %v", e.Host, rootCause(e.Err))
	}
	return x
}

func explainDial(e *DialError) Explanation {
	x := Explanation{}
	if len(e.Attempts) == 1 {
		a := e.Attempts[0]
		why, hint := reason(a.Err, e.Timeout)
		if isUnix(e.Network) && errors.Is(a.Err, syscall.ECONNREFUSED) {
			why, hint = "nothing listens on that socket", "the file is a stale socket left by a dead listener, or not a socket at all"
		}
		if isUnix(e.Network) {
			if fwhy, fhint, ok := socketFileReason(e.Target, a.Err, false); ok {
				why, hint = fwhy, fhint
			}
		}
		where := e.Target
		if a.Addr != "" && a.Addr != e.Target {
			where = fmt.Sprintf("%s (%s)", e.Target, a.Addr)
		}
		x.Msg = fmt.Sprintf("cannot connect to %s: %s", where, why)
		x.Hint = hint
		return x
	}
	x.Msg = fmt.Sprintf("cannot connect to %s: all %d addresses failed", e.Target, len(e.Attempts))
	var firstHint string
	for _, a := range e.Attempts {
		why, hint := reason(a.Err, e.Timeout)
		x.Details = append(x.Details, fmt.Sprintf("  %s: %s", a.Addr, why))
		if firstHint == "" {
			firstHint = hint
		}
	}
	x.Hint = firstHint
	return x
}

func explainListen(e *ListenError) Explanation {
	why, hint := reason(e.Err, 0)
	addr := e.Addr
	if strings.HasPrefix(addr, ":") {
		addr = "port " + addr[1:] + " (every address)"
	}
	e = &ListenError{Network: e.Network, Addr: addr, Port: e.Port, Err: e.Err, Holder: e.Holder}
	x := Explanation{Msg: fmt.Sprintf("cannot listen on %s: %s", e.Addr, why), Hint: hint}
	var foreign *ForeignSocketError
	if isUnix(e.Network) && !errors.As(e.Err, &foreign) {
		if why, hint, ok := socketFileReason(e.Addr, e.Err, true); ok {
			x.Msg, x.Hint = fmt.Sprintf("cannot listen on %s: %s", e.Addr, why), hint
			return x
		}
	}
	switch {
	case errors.As(e.Err, &foreign):
		x.Msg = fmt.Sprintf("cannot listen on %s: %v", e.Addr, foreign)
		x.Hint = "sonde removes only its own user's stale socket files; if that one is stale, its owner or root can remove it, or choose another path"
	case errors.Is(e.Err, errNotSocketFile):
		x.Msg = fmt.Sprintf("cannot listen on %s: %v", e.Addr, errNotSocketFile)
		x.Hint = "sonde removes only stale socket files; move that file away or choose another path"
	case errors.Is(e.Err, syscall.EADDRINUSE):
		x.Msg = fmt.Sprintf("cannot listen on %s: address already in use", e.Addr)
		switch {
		case e.Holder != nil && isUnix(e.Network):
			x.Hint = fmt.Sprintf("held by %s; stop it or choose another path", e.Holder)
		case e.Holder != nil:
			x.Hint = fmt.Sprintf("held by %s; stop it or choose another port", e.Holder)
		case isUnix(e.Network):
			x.Hint = "a live process listens on that socket; choose another path"
		default:
			x.Hint = fmt.Sprintf("find what holds it with `%s` or `lsof -i :%d`, or choose another port", ssCommand(e.Network, e.Port), e.Port)
		}
	case errors.Is(e.Err, syscall.EACCES) && !isUnix(e.Network) && e.Port > 0 && e.Port < 1024:
		x.Msg = fmt.Sprintf("cannot listen on %s: permission denied", e.Addr)
		x.Hint = "ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port above 1023"
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		x.Msg = fmt.Sprintf("cannot listen on %s: address not available", e.Addr)
		x.Hint = "that address belongs to no interface of this machine; list them with `ip addr`, or listen on all addresses"
	}
	return x
}

func ssCommand(network string, port int) string {
	flags := "-ltnp"
	if network == "udp" {
		flags = "-lunp"
	}
	return fmt.Sprintf("ss %s 'sport = :%d'", flags, port)
}

func explainStream(e *StreamError) Explanation {
	var op *net.OpError
	switch {
	case errors.As(e.Err, &op) && op.Op == "remote error":
		// TLS 1.3 finishes the client's handshake before the server has
		// checked the client's certificate: its verdict comes as an alert
		// on the first read.
		return Explanation{Msg: fmt.Sprintf("TLS: %s ended the session with the alert %q", e.Peer, op.Err.Error()),
			Hint: alertHint(op.Err.Error())}
	case errors.Is(e.Err, syscall.ECONNRESET):
		return e.cut("connection reset by peer "+e.Peer,
			"the peer aborted the connection (it crashed, was killed, or closed with data unread)")
	case errors.Is(e.Err, syscall.ECONNREFUSED) && e.Network == "udp":
		return Explanation{Msg: fmt.Sprintf("nothing is listening on UDP port %s of %s (ICMP port unreachable)", portOf(e.Peer), hostOf(e.Peer)),
			Hint: "check the port, or whether the service runs over TCP"}
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return Explanation{Msg: fmt.Sprintf("nothing is listening on %s (connection refused)", e.Peer)}
	case errors.Is(e.Err, syscall.EPIPE):
		return e.cut("connection to "+e.Peer+" closed by peer while sending,",
			"the peer stopped reading and closed the connection")
	}
	why, hint := reason(e.Err, 0)
	return Explanation{Msg: fmt.Sprintf("connection to %s failed after %d bytes received: %s", e.Peer, e.Received, why), Hint: hint}
}

// cut explains a connection the peer cut: what happened, then how much
// had moved (with units once sonde had sent something, in bytes received
// while it had not).
func (e *StreamError) cut(what, hint string) Explanation {
	if e.Sent > 0 {
		return Explanation{Msg: fmt.Sprintf("%s after sending %s; %s received", what, FormatBytes(e.Sent), FormatBytes(e.Received)), Hint: hint}
	}
	return Explanation{Msg: fmt.Sprintf("%s after %d bytes received", what, e.Received), Hint: hint}
}

// FormatBytes says a byte count exactly, and in KiB, MiB or GiB too once
// it is large enough for that to help: "3984588 bytes (3.8 MiB)".
func FormatBytes(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes (%.2f GiB)", n, float64(n)/(1<<30))
}

// errnoReasons word the errors reason knows by their errno (or fs error),
// checked in this order.
var errnoReasons = []struct {
	errs      []error
	why, hint string
}{
	{[]error{syscall.EHOSTUNREACH}, "no route to host", "check routing, VPN and firewall rules between here and the host"},
	{[]error{syscall.ENETUNREACH}, "network unreachable", "this machine has no route to that network; check routing and VPN"},
	{[]error{syscall.ECONNRESET}, "connection reset by peer", "the peer aborted the connection"},
	{[]error{syscall.EADDRNOTAVAIL}, "address not available", "no local port is free to connect from: too many connections are open or in TIME_WAIT"},
	{[]error{syscall.EACCES, syscall.EPERM}, "permission denied", "a local firewall rule or the file permissions forbid it"},
	{[]error{fs.ErrNotExist, syscall.ENOENT}, "no such socket file", "check the path; the listener may not be running"},
	{[]error{syscall.ENOTSOCK}, "not a socket", "that path is an ordinary file, not a Unix socket"},
	{[]error{syscall.EPROTOTYPE}, "wrong socket type", "the socket is of the other kind: add or drop -u (stream vs datagram)"},
	{[]error{syscall.EAFNOSUPPORT}, "address family not supported", "this machine has no support for that address family (IPv6 disabled?)"},
}

// reason words a low-level error and suggests what to try.
func reason(err error, timeout time.Duration) (why, hint string) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", "the host answered but nothing listens on that port (or a firewall rejected the connection)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		if timeout > 0 {
			why = fmt.Sprintf("no answer within %s", timeout)
		} else {
			why = "timed out"
		}
		return why, "the host may be down, or a firewall may be silently dropping packets"
	}
	var src *SourceError
	if errors.As(err, &src) {
		return sourceReason(src)
	}
	if toIPv6(err) && (errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENETUNREACH)) {
		return "this machine has no IPv6 connectivity (no IPv6 address or route to it)", "connect over IPv4: add -4, or give an IPv4 address"
	}
	for _, r := range errnoReasons {
		if slices.ContainsFunc(r.errs, func(target error) bool { return errors.Is(err, target) }) {
			return r.why, r.hint
		}
	}
	return rootCause(err).Error(), ""
}

// toIPv6 tells whether err is a failed connect to an IPv6 address.
func toIPv6(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Addr == nil {
		return false
	}
	ap, perr := netip.ParseAddrPort(op.Addr.String())
	return perr == nil && ap.Addr().Is6() && !ap.Addr().Is4In6()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// rootCause strips *net.OpError and *os.SyscallError layers, which repeat
// the address sonde already names.
func rootCause(err error) error {
	for {
		switch e := err.(type) {
		case *net.OpError:
			err = e.Err
		case *os.SyscallError:
			err = e.Err
		default:
			return err
		}
	}
}

func isUnix(network string) bool { return strings.HasPrefix(network, "unix") }

func portOf(hostport string) string {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return p
}

func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}
