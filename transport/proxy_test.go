package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proxytest"
)

func TestParseProxy(t *testing.T) {
	tests := []struct {
		addr, typ, auth string
		want            Proxy
		err             string // substring of the error; "" for success
	}{
		{addr: "127.0.0.1", want: Proxy{Type: "5", Host: "127.0.0.1", Port: 1080}},
		{addr: "127.0.0.1:9050", want: Proxy{Type: "5", Host: "127.0.0.1", Port: 9050}},
		{addr: "proxy.example", typ: "connect", want: Proxy{Type: "connect", Host: "proxy.example", Port: 3128}},
		{addr: "proxy.example:8080", typ: "connect", want: Proxy{Type: "connect", Host: "proxy.example", Port: 8080}},
		{addr: "proxy.example:socks", typ: "4", want: Proxy{Type: "4", Host: "proxy.example", Port: 1080}},
		{addr: "::1", want: Proxy{Type: "5", Host: "::1", Port: 1080}},
		{addr: "[::1]", typ: "4", want: Proxy{Type: "4", Host: "::1", Port: 1080}},
		{addr: "[::1]:3129", typ: "connect", want: Proxy{Type: "connect", Host: "::1", Port: 3129}},
		{addr: "fe80::1%eth0", want: Proxy{Type: "5", Host: "fe80::1%eth0", Port: 1080}},
		{addr: "h", typ: "socks5", want: Proxy{Type: "5", Host: "h", Port: 1080}},
		{addr: "h", typ: "SOCKS4A", want: Proxy{Type: "4", Host: "h", Port: 1080}},
		{addr: "h", typ: "http", want: Proxy{Type: "connect", Host: "h", Port: 3128}},
		{addr: "h", auth: "alice:s3:cret", want: Proxy{Type: "5", Host: "h", Port: 1080, Auth: true, User: "alice", Password: "s3:cret"}},
		{addr: "h", auth: "alice:", typ: "connect", want: Proxy{Type: "connect", Host: "h", Port: 3128, Auth: true, User: "alice"}},
		{addr: "h", auth: "alice", typ: "4", want: Proxy{Type: "4", Host: "h", Port: 1080, Auth: true, User: "alice"}},
		{addr: "h", auth: "alice:", typ: "4", want: Proxy{Type: "4", Host: "h", Port: 1080, Auth: true, User: "alice"}},

		{addr: "", err: "missing proxy address"},
		{addr: "h", typ: "6", err: `bad proxy type "6"`},
		{addr: "h", typ: "socks", err: `bad proxy type "socks"`},
		{addr: "h:99999", err: `bad proxy address "h:99999": bad port "99999": must be 1-65535`},
		{addr: "h:0", err: `bad proxy address "h:0": bad port "0"`},
		{addr: "h:", err: `missing port after ':'`},
		{addr: ":1080", err: `missing host`},
		{addr: "[]:1080", err: `bad IPv6 address "[]"`},
		{addr: "a:b:c", err: `want HOST or HOST:PORT`},
		{addr: "[h]:1080", err: `bad IPv6 address "[h]"`},
		{addr: "[::1", err: `bad proxy address "[::1"`},
		{addr: "bad host", err: `bad proxy address "bad host": bad host name`},
		{addr: "h:nosuchservice", err: `unknown service "nosuchservice"`},
		{addr: "h", auth: "alice", err: "want USER:PASS, with a colon"},
		{addr: "h", auth: ":pw", err: "missing user name"},
		{addr: "h", auth: "al\nice:pw", err: "control characters"},
		{addr: "h", auth: "alice:pw", typ: "4", err: "SOCKS4 has no password"},
		{addr: "h", auth: strings.Repeat("u", 256) + ":pw", err: "at most 255 bytes"},
		{addr: "h", auth: "u:" + strings.Repeat("p", 256), err: "at most 255 bytes"},
	}
	for _, tt := range tests {
		name := tt.addr + "|" + tt.typ + "|" + tt.auth
		p, err := ParseProxy(tt.addr, tt.typ, tt.auth, "")
		if tt.err != "" {
			if err == nil {
				t.Errorf("ParseProxy(%q): got %+v, want error %q", name, *p, tt.err)
				continue
			}
			checkInputError(t, err)
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseProxy(%q): error %q, want it to contain %q", name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseProxy(%q): %v", name, err)
			continue
		}
		if *p != tt.want {
			t.Errorf("ParseProxy(%q) = %+v, want %+v", name, *p, tt.want)
		}
	}
}

func FuzzParseProxy(f *testing.F) {
	f.Fuzz(func(t *testing.T, addr, typ, auth string) {
		p, err := ParseProxy(addr, typ, auth, "")
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if p.Port < 1 || p.Port > 65535 || p.Host == "" {
			t.Fatalf("ParseProxy(%q, %q, %q) = %+v: no host or port out of range", addr, typ, auth, *p)
		}
		switch p.Type {
		case ProxySOCKS5, ProxySOCKS4, ProxyConnect:
		default:
			t.Fatalf("ParseProxy(%q, %q, %q): type %q", addr, typ, auth, p.Type)
		}
		// The address sonde dials parses back to itself.
		host, port, err := ParseProxyAddr(p.Addr(), p.Type)
		if err != nil || host != p.Host || port != p.Port {
			t.Fatalf("ParseProxyAddr(%q) = %q, %d, %v; want %q, %d", p.Addr(), host, port, err, p.Host, p.Port)
		}
		if p.Auth {
			if p.User == "" || strings.Contains(p.User, ":") {
				t.Fatalf("--proxy-auth %q: user %q", auth, p.User)
			}
			if p.Type == ProxySOCKS4 && p.Password != "" {
				t.Fatalf("--proxy-auth %q with SOCKS4 kept a password", auth)
			}
			if p.Type != ProxySOCKS4 && p.User+":"+p.Password != auth {
				t.Fatalf("--proxy-auth %q split into %q and %q", auth, p.User, p.Password)
			}
		}
	})
}

func FuzzParseProxyAuth(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, typ byte) {
		proxyType := []string{ProxySOCKS5, ProxySOCKS4, ProxyConnect}[int(typ)%3]
		user, pass, err := ParseProxyAuth(s, proxyType, "--proxy-auth")
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if user == "" || strings.ContainsFunc(user+pass, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("ParseProxyAuth(%q) = %q, %q: empty user or control characters", s, user, pass)
		}
		if proxyType == ProxySOCKS5 && (len(user) > 255 || len(pass) > 255) {
			t.Fatalf("ParseProxyAuth(%q): too long for SOCKS5", s)
		}
	})
}

// TestParseProxyAuthKeepsSecret: a refused value is named by where it came
// from, and the password it holds is in neither the message nor the hint.
func TestParseProxyAuthKeepsSecret(t *testing.T) {
	const pw = "Zq8-secret-pw"
	tests := []struct{ auth, typ string }{
		{"alice:" + pw + "\x01", ProxySOCKS5},
		{"alice:" + pw, ProxySOCKS4},
		{"alice:" + pw + strings.Repeat("x", 255), ProxySOCKS5},
		{":" + pw, ProxyConnect},
	}
	for _, tt := range tests {
		_, _, err := ParseProxyAuth(tt.auth, tt.typ, "SONDE_PROXY_AUTH")
		var in *InputError
		if !errors.As(err, &in) {
			t.Fatalf("ParseProxyAuth(%q, %q) = %v, want an *InputError", tt.auth, tt.typ, err)
		}
		if strings.Contains(in.Msg+in.Hint, pw) {
			t.Errorf("ParseProxyAuth(%q, %q) error shows the password: %q / %q", tt.auth, tt.typ, in.Msg, in.Hint)
		}
	}
	_, _, err := ParseProxyAuth("alice", ProxySOCKS5, "SONDE_PROXY_AUTH")
	if err == nil || !strings.Contains(err.Error(), "bad SONDE_PROXY_AUTH: want USER:PASS") {
		t.Errorf("ParseProxyAuth(alice) from SONDE_PROXY_AUTH = %v, want it named", err)
	}
}

// echoServer serves every client of a loopback listener: it sends back
// what it reads until the client half-closes, then closes.
func echoServer(t *testing.T) (host string, port int) {
	t.Helper()
	addr := porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(guard))
		io.Copy(c, c)
	})
	return addr.Addr().String(), int(addr.Port())
}

func startProxy(t *testing.T, cfg proxytest.Config) *proxytest.Server {
	t.Helper()
	s, err := proxytest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noLeaks fails the test if it leaves goroutines behind (the SOCKS5
// library starts one per handshake).
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// proxyOf is -x addr, -X typ and --proxy-auth auth, parsed as the command
// line parses them.
func proxyOf(t *testing.T, addr, typ, auth string) *Proxy {
	t.Helper()
	p, err := ParseProxy(addr, typ, auth, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dialThroughProxy starts a proxy of cfg and dials host:port through it,
// with auth as --proxy-auth; no goroutine may outlive the test.
func dialThroughProxy(t *testing.T, cfg proxytest.Config, auth, host string, port int) (*proxytest.Server, net.Conn, error) {
	t.Helper()
	noLeaks(t)
	px := startProxy(t, cfg)
	o := DialOptions{Network: "tcp", Proxy: proxyOf(t, px.Addr(), cfg.Type, auth), Timeout: guard}
	c, err := Dial(context.Background(), Endpoint{Host: host, Port: port, Numeric: true}, o)
	return px, c, err
}

// TestDialThroughProxy: each protocol carries a connection to the target,
// half-close included (the connection is the bare TCP one, so sessions
// keep CloseWrite and the kernel's fast paths); names are sent to the
// proxy, not resolved here (SOCKS5 domain, SOCKS4a, CONNECT host).
func TestDialThroughProxy(t *testing.T) {
	_, port := echoServer(t)
	tests := []struct {
		name     string
		cfg      proxytest.Config
		auth     string
		host     string
		wantName bool
	}{
		{name: "socks5", cfg: proxytest.Config{Type: "5"}, host: "127.0.0.1"},
		{name: "socks5-name", cfg: proxytest.Config{Type: "5"}, host: "localhost", wantName: true},
		{name: "socks5-auth", cfg: proxytest.Config{Type: "5", User: "alice", Password: "pw:1"}, auth: "alice:pw:1", host: "127.0.0.1"},
		{name: "socks4", cfg: proxytest.Config{Type: "4"}, host: "127.0.0.1"},
		{name: "socks4a", cfg: proxytest.Config{Type: "4"}, host: "localhost", wantName: true},
		{name: "socks4-userid", cfg: proxytest.Config{Type: "4", User: "alice"}, auth: "alice", host: "127.0.0.1"},
		{name: "connect", cfg: proxytest.Config{Type: "connect"}, host: "127.0.0.1"},
		{name: "connect-name", cfg: proxytest.Config{Type: "connect"}, host: "localhost", wantName: true},
		{name: "connect-auth", cfg: proxytest.Config{Type: "connect", User: "alice", Password: "pw"}, auth: "alice:pw", host: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px, c, err := dialThroughProxy(t, tt.cfg, tt.auth, tt.host, port)
			if err != nil {
				t.Fatalf("Dial through %s proxy: %v", tt.name, err)
			}
			defer c.Close()
			if _, ok := c.(*net.TCPConn); !ok {
				t.Errorf("Dial returned a %T, want the *net.TCPConn itself", c)
			}
			c.SetDeadline(time.Now().Add(guard))
			payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
			go func() {
				c.Write(payload)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("echo through the proxy: got %d bytes (%v), want %d", len(got), err, len(payload))
			}
			reqs := px.Requests()
			if len(reqs) != 1 || reqs[0].Host != tt.host || reqs[0].Port != port || reqs[0].Name != tt.wantName {
				t.Errorf("proxy received %+v, want one request for %s:%d (as a name: %v)", reqs, tt.host, port, tt.wantName)
			}
		})
	}
}

// TestDialConnectKeepsDataAfterHeaders: bytes an HTTP proxy sends right
// behind its answer's headers are the target's, and reach the session.
func TestDialConnectKeepsDataAfterHeaders(t *testing.T) {
	_, port := echoServer(t)
	px := startProxy(t, proxytest.Config{Type: "connect", AfterHeaders: []byte("early bytes\n")})
	c, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: port},
		DialOptions{Network: "tcp", Proxy: proxyOf(t, px.Addr(), "connect", "")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	io.WriteString(c, "echoed\n")
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "early bytes\necho"+"ed\n" {
		t.Fatalf("got %q, %v; want the early bytes, then the echo", got, err)
	}
}

// TestDialProxyRefusals: what each proxy answers is worded, named with
// the proxy and the target, with a hint where one helps.
func TestDialProxyRefusals(t *testing.T) {
	_, port := echoServer(t)
	tests := []struct {
		name string
		cfg  proxytest.Config
		auth string
		host string
		msg  string
		hint string
	}{
		{name: "socks5-1", cfg: proxytest.Config{Type: "5", Reply: 1}, msg: "proxy refused: general failure (SOCKS5 reply 1)", hint: "its log"},
		{name: "socks5-2", cfg: proxytest.Config{Type: "5", Reply: 2}, msg: "proxy refused: not allowed by ruleset (SOCKS5 reply 2)", hint: "rules"},
		{name: "socks5-3", cfg: proxytest.Config{Type: "5", Reply: 3}, msg: "proxy refused: network unreachable (SOCKS5 reply 3)", hint: "no route"},
		{name: "socks5-4", cfg: proxytest.Config{Type: "5", Reply: 4}, msg: "proxy refused: host unreachable (SOCKS5 reply 4)", hint: "cannot reach that host"},
		{name: "socks5-5", cfg: proxytest.Config{Type: "5", Reply: 5}, msg: "proxy refused: connection refused (SOCKS5 reply 5)", hint: "nothing listens"},
		{name: "socks5-6", cfg: proxytest.Config{Type: "5", Reply: 6}, msg: "proxy refused: TTL expired (SOCKS5 reply 6)", hint: "timed out"},
		{name: "socks5-7", cfg: proxytest.Config{Type: "5", Reply: 7}, msg: "proxy refused: command not supported (SOCKS5 reply 7)", hint: "CONNECT"},
		{name: "socks5-8", cfg: proxytest.Config{Type: "5", Reply: 8}, msg: "proxy refused: address type not supported (SOCKS5 reply 8)", hint: "kind of address"},
		{name: "socks5-unreachable-target", cfg: proxytest.Config{Type: "5"}, host: "192.0.2.1", msg: "host unreachable (SOCKS5 reply 4)"},
		{name: "socks5-needs-auth", cfg: proxytest.Config{Type: "5", User: "alice", Password: "pw"},
			msg: "proxy refused: it requires authentication", hint: "give USER:PASS with --proxy-auth-file FILE"},
		{name: "socks5-bad-password", cfg: proxytest.Config{Type: "5", User: "alice", Password: "pw"}, auth: "alice:nope",
			msg: "proxy refused: user name or password rejected", hint: "check the user name and password"},
		{name: "socks4-91", cfg: proxytest.Config{Type: "4", Reply: 91}, msg: "proxy refused: request rejected or failed (SOCKS4 reply 91)"},
		{name: "socks4-92", cfg: proxytest.Config{Type: "4", Reply: 92}, msg: "could not reach identd", hint: "identd"},
		{name: "socks4-93", cfg: proxytest.Config{Type: "4", User: "alice"}, auth: "bob", msg: "the user id does not match what identd reports (SOCKS4 reply 93)", hint: "(USER alone) with --proxy-auth-file FILE"},
		{name: "connect-407", cfg: proxytest.Config{Type: "connect", User: "alice", Password: "pw"},
			msg: "proxy refused: 407 Proxy Authentication Required", hint: "give USER:PASS with --proxy-auth-file FILE"},
		{name: "connect-407-bad-password", cfg: proxytest.Config{Type: "connect", User: "alice", Password: "pw"}, auth: "alice:nope",
			msg: "proxy refused: 407 Proxy Authentication Required", hint: "rejected the user name or password"},
		{name: "connect-403", cfg: proxytest.Config{Type: "connect", Reply: 403}, msg: "proxy refused: 403 Forbidden", hint: "rules forbid"},
		{name: "connect-502", cfg: proxytest.Config{Type: "connect", Reply: 502}, msg: "proxy refused: 502 Bad Gateway", hint: "could not connect to 127.0.0.1:"},
		{name: "connect-unreachable-target", cfg: proxytest.Config{Type: "connect"}, host: "192.0.2.1", msg: "proxy refused: 502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.host
			if host == "" {
				host = "127.0.0.1"
			}
			px, _, err := dialThroughProxy(t, tt.cfg, tt.auth, host, port)
			var pe *ProxyError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want a *ProxyError", err, err)
			}
			x := explain(t, err)
			wantPrefix := "cannot connect to " + net.JoinHostPort(host, strconv.Itoa(port)) + " through proxy " + px.Addr() + ": "
			if !strings.HasPrefix(x.Msg, wantPrefix) {
				t.Errorf("message %q does not start with %q", x.Msg, wantPrefix)
			}
			wantContains(t, "message", x.Msg, tt.msg)
			wantContains(t, "hint", x.Hint, tt.hint)
			if x.Usage {
				t.Errorf("a refusal is not a usage error")
			}
		})
	}
}

// TestDialProxyUnreachable: a proxy that cannot be reached is explained
// as any failed connect, saying it is the proxy.
func TestDialProxyUnreachable(t *testing.T) {
	host, port := closedPort(t, "tcp")
	_, err := Dial(context.Background(), Endpoint{Host: "example.com", Port: 80},
		DialOptions{Network: "tcp", Proxy: proxyOf(t, net.JoinHostPort(host, strconv.Itoa(port)), "", "")})
	x := explain(t, err)
	want := "cannot connect to proxy " + net.JoinHostPort(host, strconv.Itoa(port)) + ": connection refused"
	if x.Msg != want {
		t.Errorf("message %q, want %q", x.Msg, want)
	}
	wantContains(t, "hint", x.Hint, "nothing listens on that port", "-x")
}

// answering starts a fake proxy that sends answer to whoever connects,
// and returns its address.
func answering(t *testing.T, answer string) string {
	return porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		c.Write([]byte(answer))
		c.SetReadDeadline(time.Now().Add(guard))
		c.Read(make([]byte, 1024))
	}).String()
}

// TestDialProxyWrongProtocol: a proxy that speaks another protocol is
// told apart from one that refuses, with the -X to try.
func TestDialProxyWrongProtocol(t *testing.T) {
	socks5 := startProxy(t, proxytest.Config{Type: "5"})
	tests := []struct {
		name, proxy, typ, msg, hint string
	}{
		{"socks5-to-http", answering(t, "HTTP/1.1 400 Bad Request\r\n\r\n"), "5", `the proxy's answer is not SOCKS5: "HT"`, "try -X connect"},
		{"socks4-to-http", answering(t, "HTTP/1.1 400 Bad Request\r\n\r\n"), "4", `the proxy's answer is not SOCKS4: "HTTP/1.1"`, "try -X connect"},
		{"connect-to-socks5-answer", answering(t, "\x05\xff"), "connect", `the proxy's answer is not HTTP CONNECT`, "try -X 5"},
		{"connect-to-socks5", socks5.Addr(), "connect", "the proxy closed the connection without answering", "is it a HTTP CONNECT proxy?"},
		{"socks4-to-socks5", socks5.Addr(), "4", "the proxy closed the connection without answering", "is it a SOCKS4 proxy?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: 9},
				DialOptions{Network: "tcp", Proxy: proxyOf(t, tt.proxy, tt.typ, ""), Timeout: guard})
			x := explain(t, err)
			wantContains(t, "message", x.Msg, "through proxy "+tt.proxy, tt.msg)
			wantContains(t, "hint", x.Hint, tt.hint)
		})
	}
}

// TestDialProxyRepliesEscaped: what a proxy answers reaches messages
// and hints escaped, its text kept: a status phrase, a challenge, an
// answer in another protocol.
func TestDialProxyRepliesEscaped(t *testing.T) {
	for _, tt := range []struct {
		name, answer, typ, auth, msg, hint string
	}{
		{"phrase", "HTTP/1.1 403 D\x1b[2J\u202eénié\x9b\r\n\r\n", "connect", "",
			`proxy refused: 403 D\x1b[2J\u202eénié\x9b`, "rules forbid"},
		{"challenge", "HTTP/1.1 407 Who\r\nProxy-Authenticate: Négo\u2066\x9b8m\r\n\r\n", "connect", "u:p",
			"proxy refused: 407 Who", `the proxy offers only: Négo\u2066\x9b8m`},
		{"other protocol", "\x1b]0;\u202e\x9b", "5", "",
			`the proxy's answer is not SOCKS5: "\x1b]"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := answering(t, tt.answer)
			_, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: 9},
				DialOptions{Network: "tcp", Proxy: proxyOf(t, proxy, tt.typ, tt.auth), Timeout: guard})
			x := explain(t, err)
			wantContains(t, "message", x.Msg, tt.msg)
			wantContains(t, "hint", x.Hint, tt.hint)
		})
	}
}

// TestDialProxyTimeout: -w bounds the handshake of a proxy that accepts
// and never answers; cancelling (Ctrl-C) interrupts it too.
func TestDialProxyTimeout(t *testing.T) {
	for _, typ := range []string{"5", "4", "connect"} {
		t.Run(typ, func(t *testing.T) {
			noLeaks(t)
			px := startProxy(t, proxytest.Config{Type: typ, Silent: true})
			_, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: 9},
				DialOptions{Network: "tcp", Proxy: proxyOf(t, px.Addr(), typ, ""), Timeout: 200 * time.Millisecond})
			x := explain(t, err)
			wantContains(t, "message", x.Msg, "through proxy "+px.Addr()+": the proxy did not answer within 200ms")

			ctx, cancel := context.WithCancelCause(context.Background())
			stop := errors.New("interrupted")
			time.AfterFunc(50*time.Millisecond, func() { cancel(stop) })
			_, err = Dial(ctx, Endpoint{Host: "127.0.0.1", Port: 9},
				DialOptions{Network: "tcp", Proxy: proxyOf(t, px.Addr(), typ, "")})
			if err != stop {
				t.Errorf("cancelled handshake returned %v, want the cancel cause", err)
			}
		})
	}
}

// TestDialProxyInputErrors: what cannot go through a proxy is a usage
// error, found before any connection.
func TestDialProxyInputErrors(t *testing.T) {
	tests := []struct {
		target           Endpoint
		network          string
		proxy, proxyType string
		want             string
	}{
		{Endpoint{Host: "::1", Port: 80}, "tcp", "127.0.0.1:9", "4", "SOCKS4 cannot carry the IPv6 address ::1"},
		{Endpoint{Host: "127.0.0.1", Port: 80}, "udp", "127.0.0.1:9", "", "a proxy carries TCP connections only"},
		{Endpoint{Host: "127.0.0.1", Port: 80, Numeric: true}, "tcp", "proxy.example", "", `-n forbids DNS lookups, and "proxy.example"`},
	}
	for _, tt := range tests {
		o := DialOptions{Network: tt.network, Proxy: proxyOf(t, tt.proxy, tt.proxyType, "")}
		_, err := Dial(context.Background(), tt.target, o)
		if err == nil {
			t.Errorf("Dial(%+v, %+v): no error", tt.target, o)
			continue
		}
		checkInputError(t, err)
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dial(%+v, %+v): %q, want %q", tt.target, o, err, tt.want)
		}
	}
}

// TestExplainProxyUnreachableName: a proxy name that does not resolve is
// explained as a resolver failure, of the proxy.
func TestExplainProxyUnreachableName(t *testing.T) {
	err := &ProxyError{Proxy: "proxy.example:1080", Target: "example.com:80", Unreachable: true,
		Err: &ResolveError{Host: "proxy.example", Err: &net.DNSError{Err: "no such host", Name: "proxy.example", IsNotFound: true}}}
	x := explain(t, err)
	if want := "cannot resolve proxy proxy.example: no such host"; x.Msg != want {
		t.Errorf("message %q, want %q", x.Msg, want)
	}
	wantContains(t, "hint", x.Hint, "check the proxy address given with -x")
}

// FuzzProxyReply: what an HTTP CONNECT, SOCKS5 or SOCKS4 proxy answers
// (read over an in-memory pipe; the proxy's end reads the request and sends
// reply). Whatever the bytes, the handshake ends, and a failure it words is
// one clean line: the proxy's own words are shown without control
// characters, so a hostile proxy cannot rewrite the terminal.
func FuzzProxyReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"), byte(2), false)
	f.Add([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\r\n"), byte(2), true)
	f.Add([]byte("HTTP/1.0 403\r\n\r\n"), byte(2), false)
	f.Add([]byte("HTTP/1.1 502 Bad\x1b[2J Gateway\r\n\r\n"), byte(2), false)
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n"), byte(2), false)
	f.Add([]byte{5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0}, byte(0), false)
	f.Add([]byte{5, 2, 1, 1}, byte(0), true)
	f.Add([]byte{5, 0xff}, byte(0), false)
	f.Add([]byte{0, 90, 0, 0, 0, 0, 0, 0}, byte(1), false)
	f.Add([]byte{0, 92, 0, 0, 0, 0, 0, 0}, byte(1), false)
	f.Fuzz(func(t *testing.T, reply []byte, typ byte, auth bool) {
		p := &Proxy{Type: []string{ProxySOCKS5, ProxySOCKS4, ProxyConnect}[int(typ)%3], Host: "127.0.0.1", Port: 1080}
		if auth {
			p.Auth, p.User = true, "alice"
			if p.Type != ProxySOCKS4 {
				p.Password = "secret"
			}
		}
		conn, proxyEnd := net.Pipe()
		proxyDone := make(chan struct{})
		go func() {
			// Take whatever the client sends, answer, then close.
			defer close(proxyDone)
			drained := make(chan struct{})
			go func() { io.Copy(io.Discard, proxyEnd); close(drained) }()
			proxyEnd.Write(reply)
			proxyEnd.Close()
			<-drained
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var fail *proxyFailure
		switch p.Type {
		case ProxySOCKS5:
			fail = socks5Handshake(ctx, conn, p, "192.0.2.1:80")
		case ProxySOCKS4:
			fail = withDeadline(ctx, conn, func() *proxyFailure { return socks4Handshake(conn, p, "192.0.2.1", 80) })
		default:
			fail = withDeadline(ctx, conn, func() *proxyFailure { return connectHandshake(conn, p, "192.0.2.1:80") })
		}
		conn.Close()
		<-proxyDone // no goroutine left behind
		if ctx.Err() != nil {
			t.Fatalf("%s handshake on %q did not end", p.Type, reply)
		}
		if fail == nil {
			return
		}
		for _, s := range []string{fail.why, fail.hint} {
			if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
				t.Fatalf("%s reply %q: message %q holds control characters", p.Type, reply, s)
			}
		}
	})
}
