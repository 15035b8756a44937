package transport

// Client-side proxies (-x, -X, --proxy-auth): SOCKS5 through
// golang.org/x/net/proxy, SOCKS4/4a and HTTP CONNECT by hand. The target's
// name is never resolved here: it goes to the proxy, which resolves it
// (SOCKS5 domain address, SOCKS4a, CONNECT host:port). This file holds the
// parsed proxy and the error of a connection through one; proxy_dial.go
// connects through it; socks.go and httpconnect.go speak the protocols.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
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
	Auth     bool   // credentials were given
	User     string // for SOCKS4, the user id
	Password string
	// AuthFrom names where the credentials came from, for hints:
	// "--proxy-auth" (the default), "--proxy-auth-file" or
	// "SONDE_PROXY_AUTH".
	AuthFrom string
}

// authSource is AuthFrom, or --proxy-auth when unset.
func (p *Proxy) authSource() string {
	if p.AuthFrom == "" {
		return "--proxy-auth"
	}
	return p.AuthFrom
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
	proxyAuthHint = "give USER:PASS (with -X 4: USER alone, the SOCKS4 user id)"
	// giveAuthHint puts the ways that keep a password out of ps first.
	giveAuthHint = "give USER:PASS with --proxy-auth-file FILE, SONDE_PROXY_AUTH or --proxy-auth"
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

// ParseProxyAuth reads credentials USER:PASS (split at the first colon:
// a password may hold colons, a user name cannot) given by from
// ("--proxy-auth", "SONDE_PROXY_AUTH", "--proxy-auth-file FILE"). SOCKS4
// carries only a user id, so there USER alone is accepted and a password
// is an error. No message quotes the value: it holds a password.
func ParseProxyAuth(s, typ, from string) (user, password string, err error) {
	user, password, hasColon := strings.Cut(s, ":")
	switch {
	case s == "":
		return "", "", badInput(proxyAuthHint, "missing %s value", from)
	case !hasColon && typ != ProxySOCKS4:
		return "", "", badInput(proxyAuthHint, "bad %s: want USER:PASS, with a colon", from)
	case user == "":
		return "", "", badInput(proxyAuthHint, "bad %s: missing user name before ':'", from)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", "", badInput(proxyAuthHint, "bad %s: control characters are not allowed", from)
	case typ == ProxySOCKS4 && password != "":
		return "", "", badInput("give USER alone, or use -X 5, which has passwords",
			"SOCKS4 has no password, only a user id")
	case typ == ProxySOCKS5 && (len(user) > 255 || len(password) > 255):
		return "", "", badInput("use a shorter user name and password",
			"bad %s: SOCKS5 allows at most 255 bytes of user name and 255 of password", from)
	}
	return user, password, nil
}

// ParseProxy reads -x, -X and --proxy-auth together. typ "" means SOCKS5,
// auth "" means no authentication; authFrom names where auth came from
// ("" for --proxy-auth).
func ParseProxy(addr, typ, auth, authFrom string) (*Proxy, error) {
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
		p.Auth, p.AuthFrom = true, authFrom
		if p.User, p.Password, err = ParseProxyAuth(auth, p.Type, p.authSource()); err != nil {
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
