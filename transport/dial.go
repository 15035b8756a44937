package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// DialOptions are the connect-side settings beyond the Endpoint: network,
// source port, timeout and proxy.
type DialOptions struct {
	Network    string        // "tcp", "udp", "unix" or "unixgram"
	SourcePort int           // -p: local port to bind, 0 for any
	Timeout    time.Duration // -w: per address tried, 0 for none

	// OnResolve, if set, is told the addresses a name resolved to.
	OnResolve func(host string, addrs []netip.Addr)
	// OnDial, if set, is told each address as sonde starts connecting to
	// it, so that a connect that hangs shows where.
	OnDial func(addr string)
	// OnAttempt, if set, is told about every address that failed.
	OnAttempt func(addr string, err error)

	// Proxy, if set, is -x, -X and --proxy-auth as ParseProxy read them:
	// the connection goes through that proxy. See proxy.go.
	Proxy *Proxy
}

var errNoAddrOfFamily = errors.New("no address of the requested family")

// Resolve turns a host into addresses, honouring -4/-6 and -n. IP literals
// (with an optional zone) never touch the resolver.
func Resolve(ctx context.Context, host string, family int, numeric bool) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if family == 4 && !ip.Is4() || family == 6 && !ip.Is6() {
			return nil, badInput("drop -4/-6, or give an address of the matching family",
				"%s is not an IPv%d address (-%d was given)", host, family, family)
		}
		if err := checkZone(ip); err != nil {
			return nil, err
		}
		return []netip.Addr{ip}, nil
	}
	if numeric {
		return nil, badInput("drop -n to let sonde look the name up",
			"-n forbids DNS lookups, and %q is not a numeric address", host)
	}
	network := "ip"
	if family == 4 {
		network = "ip4"
	} else if family == 6 {
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause
		}
		var ae *net.AddrError
		if family != 0 && errors.As(err, &ae) {
			err = errNoAddrOfFamily // "no suitable address found": the name has none of that family
		}
		return nil, &ResolveError{Host: host, Family: family, Err: err}
	}
	out := addrs[:0]
	for _, a := range addrs {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &ResolveError{Host: host, Family: family, Err: errNoAddrOfFamily}
	}
	return out, nil
}

// checkZone refuses a link-local IPv6 address without a zone (the
// interface to use: every interface has the same link-local network, and
// the kernel answers only "invalid argument"), and a zone that names no
// interface of this machine.
func checkZone(ip netip.Addr) error {
	const hint = "list this machine's interfaces with `ip link` (ipconfig on Windows)"
	if !ip.Is6() || !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() {
		return nil
	}
	zone := ip.Zone()
	if zone == "" {
		return badInput(fmt.Sprintf("add the interface after a %%, e.g. %s%%eth0; %s", ip, hint),
			"%s is a link-local IPv6 address: it needs a zone, the interface to use", ip)
	}
	if n, err := strconv.Atoi(zone); err == nil {
		if _, err := net.InterfaceByIndex(n); err == nil {
			return nil
		}
	} else if _, err := net.InterfaceByName(zone); err == nil {
		return nil
	}
	return badInput(hint, "bad zone in %s: this machine has no interface %q", ip, zone)
}

// Dial connects to e (a Unix socket's path is e.Host). A name with
// several addresses is tried address by address; if all fail, the
// *DialError lists each one and why.
func Dial(ctx context.Context, e Endpoint, o DialOptions) (net.Conn, error) {
	if o.Proxy != nil {
		return dialProxy(ctx, e, o)
	}
	if isUnix(o.Network) {
		return dialUnix(ctx, e.Host, o)
	}
	if e.Host == "" {
		return nil, badInput("e.g. sonde 127.0.0.1 8080", "missing host to connect to")
	}
	var src netip.Addr
	if e.Source != "" {
		srcs, err := ResolveWithin(ctx, e.Source, e, o.Timeout)
		if err != nil {
			return nil, err
		}
		src = srcs[0]
	}
	addrs, err := ResolveWithin(ctx, e.Host, e, o.Timeout)
	if err != nil {
		return nil, err
	}
	if _, notLiteral := netip.ParseAddr(e.Host); notLiteral != nil && o.OnResolve != nil {
		o.OnResolve(e.Host, addrs)
	}
	derr := &DialError{Network: o.Network, Target: e.HostPort(), Timeout: o.Timeout}
	for _, a := range addrs {
		if src.IsValid() && src.Is4() != a.Is4() {
			continue // a source address of one family cannot reach the other
		}
		addr := netip.AddrPortFrom(a, uint16(e.Port)).String()
		if o.OnDial != nil {
			o.OnDial(addr)
		}
		conn, err := dialOne(ctx, o, addr, src)
		if err == nil {
			return conn, nil
		}
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause
		}
		if se := sourceFailure(o.Network, err); se != nil {
			err = se
		}
		if o.OnAttempt != nil {
			o.OnAttempt(addr, err)
		}
		derr.Attempts = append(derr.Attempts, Attempt{Addr: addr, Err: err})
	}
	if len(derr.Attempts) == 0 {
		return nil, badInput("give -s an address of the same family as the host",
			"source address %s cannot reach %s: different address families", e.Source, e.Host)
	}
	// When the source could not be bound for any address, nothing was
	// sent: say so once, not once per address.
	var first *SourceError
	for _, a := range derr.Attempts {
		se, ok := a.Err.(*SourceError)
		if !ok {
			return nil, derr
		}
		if first == nil {
			first = se
		}
	}
	return nil, first
}

// errResolveTimedOut ends a lookup that took longer than -w.
var errResolveTimedOut = errors.New("name resolution timed out")

// ResolveWithin resolves host as e asks (-4/-6, -n), bounded by -w: a resolver that
// never answers would otherwise hold sonde for its own timeouts (5 s per
// try, two tries), whatever -w says.
func ResolveWithin(ctx context.Context, host string, e Endpoint, timeout time.Duration) ([]netip.Addr, error) {
	if timeout <= 0 {
		return Resolve(ctx, host, e.Family, e.Numeric)
	}
	rctx, cancel := context.WithTimeoutCause(ctx, timeout, errResolveTimedOut)
	defer cancel()
	addrs, err := Resolve(rctx, host, e.Family, e.Numeric)
	if errors.Is(err, errResolveTimedOut) {
		return nil, &ResolveError{Host: host, Family: e.Family, Timeout: timeout,
			Err: &net.DNSError{Err: err.Error(), Name: host, IsTimeout: true}}
	}
	return addrs, err
}

func dialOne(ctx context.Context, o DialOptions, addr string, src netip.Addr) (net.Conn, error) {
	d := net.Dialer{}
	if src.IsValid() || o.SourcePort != 0 {
		ap := netip.AddrPortFrom(src, uint16(o.SourcePort))
		if o.Network == "udp" {
			d.LocalAddr = net.UDPAddrFromAddrPort(ap)
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(ap)
		}
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	return d.DialContext(ctx, o.Network, addr)
}

func dialUnix(ctx context.Context, path string, o DialOptions) (net.Conn, error) {
	if path == "" {
		return nil, badInput("e.g. sonde -U /tmp/app.sock", "missing socket path")
	}
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	d := net.Dialer{}
	if o.Timeout > 0 {
		d.Timeout = o.Timeout
	}
	if o.Network == "unix" {
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return nil, &DialError{Network: o.Network, Target: path, Attempts: []Attempt{{Addr: path, Err: err}}, Timeout: o.Timeout}
		}
		return c, nil
	}
	// A datagram client needs an address of its own, or replies cannot reach it.
	return dialUnixgram(path, o)
}
