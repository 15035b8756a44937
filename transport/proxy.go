package transport

// Client-side proxies (-x, -X, --proxy-auth): SOCKS5 through
// golang.org/x/net/proxy, SOCKS4/4a and HTTP CONNECT by hand. The target's
// name is never resolved here: it goes to the proxy, which resolves it
// (SOCKS5 domain address, SOCKS4a, CONNECT host:port).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/proxy"
)

// Proxy protocols, spelled as OpenBSD nc's -X spells them.
const (
	ProxySOCKS5  = "5"
	ProxySOCKS4  = "4"
	ProxyConnect = "connect"
)

// Default proxy ports: SOCKS's registered port, and the port most HTTP
// proxies (Squid, ncat) use.
const (
	DefaultSOCKSPort   = 1080
	DefaultConnectPort = 3128
)

// DefaultProxyTimeout bounds a proxy handshake when -w is not given: a
// proxy that does not speak the protocol asked for may wait for more
// bytes forever, and a working one answers well within it (or says
// itself that the target did not answer).
const DefaultProxyTimeout = 15 * time.Second

// Proxy is a parsed -x / -X / --proxy-auth.
type Proxy struct {
	Type     string // ProxySOCKS5, ProxySOCKS4 or ProxyConnect
	Host     string // name or IP literal, without brackets
	Port     int
	Auth     bool   // --proxy-auth was given
	User     string // for SOCKS4, the user id
	Password string
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// Protocol names the proxy protocol in messages.
func (p *Proxy) Protocol() string { return protocolName(p.Type) }

func protocolName(typ string) string {
	switch typ {
	case ProxySOCKS4:
		return "SOCKS4"
	case ProxyConnect:
		return "HTTP CONNECT"
	}
	return "SOCKS5"
}

const (
	proxyTypeHint = "use -X 5 (SOCKS5, the default), -X 4 (SOCKS4, SOCKS4a for names) or -X connect (HTTP CONNECT)"
	proxyAddrHint = "give -x HOST or HOST:PORT, e.g. -x 127.0.0.1, -x proxy.example:3128 or -x [::1]:1080"
	proxyAuthHint = "give --proxy-auth USER:PASS (with -X 4: --proxy-auth USER, the SOCKS4 user id)"
)

// ParseProxyType reads -X: 5, 4 or connect, as nc has them; socks5,
// socks4, socks4a and http are accepted too, as ncat spells them.
func ParseProxyType(s string) (string, error) {
	switch strings.ToLower(s) {
	case "5", "socks5":
		return ProxySOCKS5, nil
	case "4", "socks4", "socks4a":
		return ProxySOCKS4, nil
	case "connect", "http":
		return ProxyConnect, nil
	case "":
		return "", badInput(proxyTypeHint, "missing proxy type")
	}
	return "", badInput(proxyTypeHint, "bad proxy type %q", s)
}

// ParseProxyAddr reads -x ADDR[:PORT]: a name, an IPv4 address or an IPv6
// address (bare, or in brackets when a port follows). Without a port, the
// protocol's usual one is used: 1080 for SOCKS, 3128 for HTTP CONNECT.
func ParseProxyAddr(s, typ string) (host string, port int, err error) {
	port = DefaultSOCKSPort
	if typ == ProxyConnect {
		port = DefaultConnectPort
	}
	bad := func(why string) (string, int, error) {
		return "", 0, badInput(proxyAddrHint, "bad proxy address %q: %s", s, why)
	}
	if s == "" {
		return "", 0, badInput(proxyAddrHint, "missing proxy address")
	}
	hostPart, portPart := s, ""
	_, literalErr := netip.ParseAddr(s)
	switch {
	case literalErr == nil: // a bare address, IPv6 ones included
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
	case strings.Contains(s, ":"):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return bad("want HOST or HOST:PORT, with an IPv6 address in brackets before a port")
		}
		if p == "" {
			return bad("missing port after ':'")
		}
		hostPart, portPart = h, p
		if strings.HasPrefix(s, "[") {
			hostPart = "[" + h + "]"
		}
	}
	if hostPart, err = ParseHost(hostPart); err != nil {
		return bad(inputMsg(err))
	}
	if hostPart == "" {
		return bad("missing host")
	}
	if portPart != "" {
		if port, err = ParsePort(portPart, "tcp", false); err != nil {
			return bad(inputMsg(err))
		}
	}
	return hostPart, port, nil
}

// inputMsg is the message of an *InputError, without its hint.
func inputMsg(err error) string {
	var in *InputError
	if errors.As(err, &in) {
		return in.Msg
	}
	return err.Error()
}

// ParseProxyAuth reads --proxy-auth USER:PASS (split at the first colon:
// a password may hold colons, a user name cannot). SOCKS4 carries only a
// user id, so there USER alone is accepted and a password is an error.
func ParseProxyAuth(s, typ string) (user, password string, err error) {
	user, password, hasColon := strings.Cut(s, ":")
	switch {
	case s == "":
		return "", "", badInput(proxyAuthHint, "missing --proxy-auth value")
	case !hasColon && typ != ProxySOCKS4:
		return "", "", badInput(proxyAuthHint, "bad --proxy-auth: want USER:PASS, with a colon")
	case user == "":
		return "", "", badInput(proxyAuthHint, "bad --proxy-auth: missing user name before ':'")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", "", badInput(proxyAuthHint, "bad --proxy-auth: control characters are not allowed")
	case typ == ProxySOCKS4 && password != "":
		return "", "", badInput("give --proxy-auth USER alone, or use -X 5, which has passwords",
			"SOCKS4 has no password, only a user id")
	case typ == ProxySOCKS5 && (len(user) > 255 || len(password) > 255):
		return "", "", badInput("use a shorter user name and password",
			"bad --proxy-auth: SOCKS5 allows at most 255 bytes of user name and 255 of password")
	}
	return user, password, nil
}

// ParseProxy reads -x, -X and --proxy-auth together. typ "" means SOCKS5,
// auth "" means no authentication.
func ParseProxy(addr, typ, auth string) (*Proxy, error) {
	p := &Proxy{Type: ProxySOCKS5}
	var err error
	if typ != "" {
		if p.Type, err = ParseProxyType(typ); err != nil {
			return nil, err
		}
	}
	if p.Host, p.Port, err = ParseProxyAddr(addr, p.Type); err != nil {
		return nil, err
	}
	if auth != "" {
		p.Auth = true
		if p.User, p.Password, err = ParseProxyAuth(auth, p.Type); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ProxyError reports a connection that could not be made through a proxy:
// the proxy could not be reached (Unreachable, Err says why), or it
// refused, or its answer made no sense.
type ProxyError struct {
	Proxy       string // the proxy's host:port
	Type        string // ProxySOCKS5, ProxySOCKS4 or ProxyConnect
	Target      string // the host:port the proxy was asked for
	Unreachable bool   // sonde could not connect to the proxy itself
	Why         string // e.g. "proxy refused: 407 Proxy Authentication Required"
	Hint        string
	Err         error // the underlying failure, if any
}

func (e *ProxyError) Error() string {
	if e.Unreachable {
		return fmt.Sprintf("cannot reach proxy %s: %v", e.Proxy, e.Err)
	}
	return fmt.Sprintf("cannot connect to %s through proxy %s: %s", e.Target, e.Proxy, e.Why)
}

func (e *ProxyError) Unwrap() error { return e.Err }

func explainProxy(e *ProxyError) Explanation {
	if !e.Unreachable {
		return Explanation{Msg: e.Error(), Hint: e.Hint}
	}
	// Word it as any failed connect, naming the proxy as such.
	x := Explain(e.Err)
	for _, verb := range []string{"cannot connect to ", "cannot resolve "} {
		if rest, ok := strings.CutPrefix(x.Msg, verb); ok {
			x.Msg = verb + "proxy " + rest
			break
		}
	}
	check := "check the proxy address given with -x"
	if x.Hint == "" {
		x.Hint = check
	} else {
		x.Hint += "; " + check
	}
	return x
}

// dialProxy connects to t through the proxy of o. Connecting to the proxy
// honours -4/-6, -n, -s, -p and -w like any connect; then -w (or
// DefaultProxyTimeout) bounds the whole proxy handshake, which includes
// the proxy's own connect to t.
func dialProxy(ctx context.Context, t Target, o DialOptions) (net.Conn, error) {
	p, err := ParseProxy(o.Proxy, o.ProxyType, o.ProxyAuth)
	if err != nil {
		return nil, err
	}
	if o.Network != "tcp" {
		return nil, badInput("drop -x, or drop -u / -U", "a proxy carries TCP connections only")
	}
	if t.Host == "" {
		return nil, badInput("e.g. sonde -x 127.0.0.1:1080 example.com 80", "missing host to connect to")
	}
	port, err := ParsePort(t.Port, "tcp", false)
	if err != nil {
		return nil, err
	}
	host := t.Host
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
	direct.Proxy, direct.ProxyType, direct.ProxyAuth = "", "", ""
	conn, err := Dial(ctx, Target{Host: p.Host, Port: strconv.Itoa(p.Port)}, direct)
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
	return socks5Failure(rec.got, p.Auth, rootCause(err))
}

// socks5Failure reads a failed SOCKS5 exchange (RFC 1928, RFC 1929) from
// the bytes the proxy sent: method choice, auth status, reply.
func socks5Failure(got []byte, offeredAuth bool, err error) *proxyFailure {
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
			hint: "give --proxy-auth USER:PASS", err: err}
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
				hint: "check the user name and password given with --proxy-auth", err: err}
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
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
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
			hint: "give the user id the proxy expects with --proxy-auth USER"}
	}
	return &proxyFailure{why: fmt.Sprintf("proxy refused: unknown SOCKS4 reply %d", got[1]),
		hint: "the proxy does not follow the SOCKS4 protocol"}
}

// maxConnectHeader bounds the head of a CONNECT answer sonde will read.
const maxConnectHeader = 64 << 10

// connectHandshake asks an HTTP proxy for target with CONNECT, and reads
// its answer up to the blank line that ends the headers, and not one byte
// further: what follows is the target's data, for the session to deliver.
func connectHandshake(conn net.Conn, p *Proxy, target string) *proxyFailure {
	var req strings.Builder
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if p.Auth {
		cred := base64.StdEncoding.EncodeToString([]byte(p.User + ":" + p.Password))
		fmt.Fprintf(&req, "Proxy-Authorization: Basic %s\r\n", cred)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return &proxyFailure{err: err}
	}

	// bufio over one-byte reads: bufio never holds a byte past the line
	// it returned, so nothing after the headers is taken from conn.
	head := &byteReader{r: conn, left: maxConnectHeader}
	tp := textproto.NewReader(bufio.NewReaderSize(head, 16))
	status, err := tp.ReadLine()
	if err != nil && status == "" {
		if len(head.got) > 0 {
			return notProtocol(head.got, ProxyConnect)
		}
		return &proxyFailure{err: err}
	}
	proto, rest, _ := strings.Cut(status, " ")
	codeText, phrase, _ := strings.Cut(rest, " ")
	code, cerr := strconv.Atoi(codeText)
	if !strings.HasPrefix(proto, "HTTP/") || cerr != nil || len(codeText) != 3 {
		return notProtocol(head.got, ProxyConnect)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		if errors.Is(err, errHeaderTooLong) {
			return &proxyFailure{why: "the proxy's answer has more than 64 KiB of headers", hint: "check the proxy address and -X"}
		}
		return &proxyFailure{err: err}
	}
	if code >= 200 && code < 300 {
		return nil
	}
	// The proxy's words go to the terminal: no control characters.
	phrase = strings.TrimSpace(printable([]byte(phrase)))
	if phrase == "" {
		phrase = statusText[code]
	}
	f := &proxyFailure{why: strings.TrimSpace(fmt.Sprintf("proxy refused: %d %s", code, phrase))}
	switch code {
	case 407:
		switch {
		case !p.Auth:
			f.hint = "the proxy wants a user name and password: give --proxy-auth USER:PASS"
		case !offersBasic(hdr.Values("Proxy-Authenticate")):
			f.hint = fmt.Sprintf("sonde sends Basic credentials, and the proxy offers only: %s",
				printable([]byte(strings.Join(hdr.Values("Proxy-Authenticate"), ", "))))
		default:
			f.hint = "the proxy rejected the user name or password given with --proxy-auth"
		}
	case 403:
		f.hint = "the proxy's rules forbid this destination (many allow CONNECT to port 443 only)"
	case 405, 501:
		f.hint = "the server does not support CONNECT: is it a web server rather than a proxy?"
	case 400:
		f.hint = "the proxy did not understand the request"
	case 502, 503:
		f.hint = fmt.Sprintf("the proxy could not connect to %s", target)
	case 504:
		f.hint = fmt.Sprintf("the proxy could not connect to %s: no answer in time, or refused (some proxies say 504 for both)", target)
	}
	return f
}

func offersBasic(challenges []string) bool {
	if len(challenges) == 0 {
		return true // nothing said: assume the usual
	}
	for _, c := range challenges {
		if scheme, _, _ := strings.Cut(strings.TrimSpace(c), " "); strings.EqualFold(scheme, "basic") {
			return true
		}
	}
	return false
}

// statusText names the statuses an HTTP proxy answers CONNECT with, for a
// status line that gives none (net/http would weigh more than sonde).
var statusText = map[int]string{
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	407: "Proxy Authentication Required",
	408: "Request Timeout",
	429: "Too Many Requests",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
}

var errHeaderTooLong = errors.New("header too long")

// byteReader reads one byte at a time, at most left bytes, and keeps them.
type byteReader struct {
	r    io.Reader
	left int
	got  []byte
}

func (b *byteReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errHeaderTooLong
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := b.r.Read(p[:1])
	b.left -= n
	if len(b.got) < 64 {
		b.got = append(b.got, p[:n]...)
	}
	return n, err
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
