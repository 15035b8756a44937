package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"

	"golang.org/x/net/proxy"
)

// socks5Handshake asks a SOCKS5 proxy for target, through x/net/proxy. The
// library's errors are plain strings, so the bytes the proxy sent are
// recorded and its answer is read from them.
func socks5Handshake(ctx context.Context, conn net.Conn, p *Proxy, target string) *proxyFailure {
	rec := &recordingConn{Conn: conn}
	var auth *proxy.Auth
	if p.Auth {
		auth = &proxy.Auth{User: p.User, Password: p.Password}
	}
	d, err := proxy.SOCKS5("tcp", p.Addr(), auth, preDialed{rec})
	if err != nil {
		return &proxyFailure{err: err}
	}
	// The library returns its own wrapper of conn, which hides CloseWrite;
	// on success the handshake is over and conn itself is used.
	if _, err = d.(proxy.ContextDialer).DialContext(ctx, "tcp", target); err == nil {
		return nil
	}
	if ctx.Err() != nil && !isTimeout(err) {
		err = context.Cause(ctx)
	}
	return socks5Failure(rec.got, p, rootCause(err))
}

// socks5Failure reads a failed SOCKS5 exchange (RFC 1928, RFC 1929) from
// the bytes the proxy sent: method choice, auth status, reply.
func socks5Failure(got []byte, p *Proxy, err error) *proxyFailure {
	offeredAuth := p.Auth
	short := func(n int) bool { return len(got) < n }
	if !short(1) && got[0] != 5 {
		return notProtocol(got, ProxySOCKS5)
	}
	if short(2) {
		return &proxyFailure{err: err}
	}
	method := got[1]
	switch {
	case method == 0xff && !offeredAuth:
		return &proxyFailure{why: "proxy refused: it requires authentication",
			hint: giveAuthHint, err: err}
	case method == 0xff:
		return &proxyFailure{why: "proxy refused: it accepts none of the offered authentication methods (none, username/password)",
			hint: "the proxy wants a method sonde does not speak, such as GSSAPI", err: err}
	case method != 0 && !(method == 2 && offeredAuth):
		return &proxyFailure{why: fmt.Sprintf("the proxy chose authentication method %d, which sonde did not offer", method),
			hint: "the proxy does not follow RFC 1928", err: err}
	}
	i := 2
	if method == 2 {
		if short(4) {
			return &proxyFailure{err: err}
		}
		if got[3] != 0 {
			return &proxyFailure{why: "proxy refused: user name or password rejected",
				hint: "check the user name and password given with " + p.authSource(), err: err}
		}
		i = 4
	}
	if !short(i+1) && got[i] != 5 {
		return &proxyFailure{why: fmt.Sprintf("the proxy answered with SOCKS version %d, not 5", got[i]), err: err}
	}
	if short(i + 2) {
		return &proxyFailure{err: err}
	}
	if rep := got[i+1]; rep != 0 {
		why, hint := socks5Reply(rep)
		return &proxyFailure{why: fmt.Sprintf("proxy refused: %s (SOCKS5 reply %d)", why, rep), hint: hint, err: err}
	}
	return &proxyFailure{err: err}
}

// socks5Reply words a SOCKS5 reply code (RFC 1928 section 6).
func socks5Reply(code byte) (why, hint string) {
	switch code {
	case 1:
		return "general failure", "the proxy failed on its own side; its log says why"
	case 2:
		return "not allowed by ruleset", "the proxy's rules forbid this client or this destination"
	case 3:
		return "network unreachable", "the proxy has no route to that network"
	case 4:
		return "host unreachable", "the proxy cannot reach that host: it may be down, or its name may not resolve at the proxy"
	case 5:
		return "connection refused", "the proxy reached the host, but nothing listens on that port there"
	case 6:
		return "TTL expired", "the proxy's connection attempt timed out: the host may be down or filtered"
	case 7:
		return "command not supported", "the proxy does not support the CONNECT command"
	case 8:
		return "address type not supported", "the proxy does not take this kind of address; try an IPv4 address or a name"
	}
	return "unknown reply code", "the proxy does not follow RFC 1928"
}

// socks4Handshake asks a SOCKS4 proxy for host:port: SOCKS4 for an IPv4
// address, SOCKS4a (the proxy resolves it) for a name.
func socks4Handshake(conn net.Conn, p *Proxy, host string, port int) *proxyFailure {
	req := []byte{4, 1, byte(port >> 8), byte(port)}
	ip, err := netip.ParseAddr(host)
	if err == nil {
		a := ip.Unmap().As4()
		req = append(req, a[:]...)
	} else {
		req = append(req, 0, 0, 0, 1) // 0.0.0.x: the name follows (SOCKS4a)
	}
	req = append(req, p.User...)
	req = append(req, 0)
	if err != nil {
		req = append(req, host...)
		req = append(req, 0)
	}
	if _, err := conn.Write(req); err != nil {
		return &proxyFailure{err: err}
	}
	reply := make([]byte, 8)
	n, err := io.ReadFull(conn, reply)
	got := reply[:n]
	if n > 0 && got[0] != 0 && got[0] != 4 { // the version is 0; some proxies say 4
		return notProtocol(got, ProxySOCKS4)
	}
	if n < 2 {
		return &proxyFailure{err: err}
	}
	switch got[1] {
	case 90:
		if err != nil {
			return &proxyFailure{err: err}
		}
		return nil
	case 91:
		return &proxyFailure{why: "proxy refused: request rejected or failed (SOCKS4 reply 91)",
			hint: "the proxy's rules forbid it, or the proxy could not reach the host (SOCKS4 does not say which)"}
	case 92:
		return &proxyFailure{why: "proxy refused: it could not reach identd on this machine (SOCKS4 reply 92)",
			hint: "this proxy checks user ids with identd; run one, or use -X 5"}
	case 93:
		return &proxyFailure{why: "proxy refused: the user id does not match what identd reports (SOCKS4 reply 93)",
			hint: "give the user id the proxy expects (USER alone) with --proxy-auth-file FILE, SONDE_PROXY_AUTH or --proxy-auth"}
	}
	return &proxyFailure{why: fmt.Sprintf("proxy refused: unknown SOCKS4 reply %d", got[1]),
		hint: "the proxy does not follow the SOCKS4 protocol"}
}

// recordingConn keeps every byte read through it.
type recordingConn struct {
	net.Conn
	got []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.got = append(c.got, p[:n]...)
	return n, err
}

// preDialed hands x/net/proxy a connection that is already open.
type preDialed struct{ conn net.Conn }

func (d preDialed) Dial(string, string) (net.Conn, error) { return d.conn, nil }

func (d preDialed) DialContext(context.Context, string, string) (net.Conn, error) {
	return d.conn, nil
}
