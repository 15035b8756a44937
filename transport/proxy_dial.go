package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/safetext"
)

// dialProxy connects to t through the proxy of o. Connecting to the proxy
// honours -4/-6, -n, -s, -p and -w like any connect; then -w (or
// DefaultProxyTimeout) bounds the whole proxy handshake, which includes
// the proxy's own connect to t.
func dialProxy(ctx context.Context, t Endpoint, o DialOptions) (net.Conn, error) {
	p := o.Proxy
	if o.Network != "tcp" {
		return nil, badInput("drop -x, or drop -u / -U", "a proxy carries TCP connections only")
	}
	if t.Host == "" {
		return nil, badInput("e.g. sonde -x 127.0.0.1:1080 example.com 80", "missing host to connect to")
	}
	host, port := t.Host, t.Port
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if p.Type == ProxySOCKS4 && !ip.Is4() {
			return nil, badInput("use -X 5 or -X connect, which carry IPv6 addresses",
				"SOCKS4 cannot carry the IPv6 address %s", t.Host)
		}
		host = ip.WithZone("").String() // a zone means nothing to the proxy
	}
	target := net.JoinHostPort(host, strconv.Itoa(port))

	direct := o
	direct.Proxy = nil
	proxy := t // -4/-6, -n and -s apply to reaching the proxy
	proxy.Host, proxy.Port = p.Host, p.Port
	conn, err := Dial(ctx, proxy, direct)
	if err != nil {
		var in *InputError
		if errors.As(err, &in) || context.Cause(ctx) != nil {
			return nil, err
		}
		return nil, &ProxyError{Proxy: p.Addr(), Type: p.Type, Target: target, Unreachable: true, Err: err}
	}

	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultProxyTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var f *proxyFailure
	switch p.Type {
	case ProxySOCKS5:
		f = socks5Handshake(hctx, conn, p, target)
	case ProxySOCKS4:
		f = withDeadline(hctx, conn, func() *proxyFailure { return socks4Handshake(conn, p, host, port) })
	default:
		f = withDeadline(hctx, conn, func() *proxyFailure { return connectHandshake(conn, p, target) })
	}
	if f == nil {
		return conn, nil
	}
	conn.Close()
	if cause := context.Cause(ctx); cause != nil {
		return nil, cause
	}
	e := &ProxyError{Proxy: p.Addr(), Type: p.Type, Target: target, Why: f.why, Hint: f.hint, Err: f.err}
	if e.Why == "" {
		e.Why, e.Hint = ioFailure(p, f.err, timeout)
	}
	return nil, e
}

// proxyFailure is what went wrong in a handshake: why and hint worded when
// the proxy's answer says it, else only err (an I/O error).
type proxyFailure struct {
	why, hint string
	err       error
}

// ioFailure words an I/O error met during a handshake.
func ioFailure(p *Proxy, err error, timeout time.Duration) (why, hint string) {
	protocol := p.Protocol()
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the proxy closed the connection without answering",
			fmt.Sprintf("is it a %s proxy? -X 5, -X 4 and -X connect choose the protocol", protocol)
	case isTimeout(err), errors.Is(err, context.DeadlineExceeded):
		why = "the proxy did not answer in time"
		if timeout > 0 {
			why = fmt.Sprintf("the proxy did not answer within %s", timeout)
		}
		return why, fmt.Sprintf("the proxy may still be trying to reach the host, or may not speak %s (-X chooses the protocol)", protocol)
	case errors.Is(err, syscall.ECONNRESET):
		return "the proxy reset the connection",
			fmt.Sprintf("is it a %s proxy? -X 5, -X 4 and -X connect choose the protocol", protocol)
	}
	why, hint = reason(err, timeout)
	return why, hint
}

// aLongTimeAgo is a deadline in the past: setting it interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// withDeadline runs a hand-written handshake on conn under ctx: ctx's
// deadline becomes the connection's, and cancelling ctx interrupts it.
func withDeadline(ctx context.Context, conn net.Conn, handshake func() *proxyFailure) *proxyFailure {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	f := handshake()
	if !stop() && f == nil {
		f = &proxyFailure{err: context.Cause(ctx)}
	}
	conn.SetDeadline(time.Time{})
	return f
}

// notProtocol words an answer that is not the protocol asked for, and
// guesses which protocol the proxy speaks instead.
func notProtocol(got []byte, typ string) *proxyFailure {
	f := &proxyFailure{why: fmt.Sprintf("the proxy's answer is not %s: %s", protocolName(typ), quoteStart(got))}
	switch {
	case bytes.HasPrefix(got, []byte("HTTP/")) || bytes.HasPrefix([]byte("HTTP/"), got):
		f.hint = "it speaks HTTP: try -X connect"
	case got[0] == 5 && typ != ProxySOCKS5:
		f.hint = "it speaks SOCKS5: try -X 5"
	case (got[0] == 0 || got[0] == 4) && typ != ProxySOCKS4:
		f.hint = "it may speak SOCKS4: try -X 4"
	default:
		f.hint = "check the proxy address and -X"
	}
	return f
}

// quoteStart quotes the first bytes of an answer for a message.
func quoteStart(b []byte) string {
	const max = 24
	if len(b) > max {
		return `"` + safetext.Escape(string(b[:max])) + `"...`
	}
	return `"` + safetext.Escape(string(b)) + `"`
}
