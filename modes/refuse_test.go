package modes

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// A client that a stream server turns away (--allow/--deny, --max-conns)
// reads a reset, not an end of file, on every server that refuses
// clients: nc, ncat or curl then fail instead of taking the close for an
// empty answer.
func TestRefusedClientReadsReset(t *testing.T) {
	deny, err := transport.NewAccessList(context.Background(), nil, []string{"127.0.0.0/8"}, true)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip := func(t *testing.T, c net.Conn) { // the client is being served
		if _, err := io.WriteString(c, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("the first client was not served: %v", err)
		}
	}
	echo := func(access *transport.AccessList, maxConns int) func(t *testing.T) (net.Addr, *syncBuffer) {
		return func(t *testing.T) (net.Addr, *syncBuffer) {
			var stderr syncBuffer
			addr, _ := startEcho(t, "tcp", func(o *EchoOptions) {
				o.Access, o.MaxConns = access, maxConns
				o.UI = ui.New(writerOnly{&stderr}, 1)
			})
			return addr, &stderr
		}
	}
	relay := func(access *transport.AccessList, maxConns int) func(t *testing.T) (net.Addr, *syncBuffer) {
		return func(t *testing.T) (net.Addr, *syncBuffer) {
			target := startTarget(t, func(c net.Conn) { io.Copy(c, c) })
			var stderr syncBuffer
			r := startRelay(t, "tcp", target, func(o *RelayOptions) {
				o.Access, o.MaxConns = access, maxConns
				o.UI = ui.New(writerOnly{&stderr}, 1)
			})
			return tcpAddr(t, r.addr), &stderr
		}
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (net.Addr, *syncBuffer)
		// hold, if set, proves a first client is being served; the
		// refused client comes while it is.
		hold func(t *testing.T, c net.Conn)
		why  string
	}{
		{name: "listen --deny", why: "matches --deny 127.0.0.0/8", start: func(t *testing.T) (net.Addr, *syncBuffer) {
			return startListener(t, &Options{Server: Server{Access: deny}})
		}},
		{name: "listen -k --deny", why: "matches --deny 127.0.0.0/8", start: func(t *testing.T) (net.Addr, *syncBuffer) {
			return startListener(t, &Options{Keep: true, NoStdin: true, Server: Server{Access: deny}})
		}},
		{name: "listen -k --max-conns", why: "1 client connected (--max-conns)", start: func(t *testing.T) (net.Addr, *syncBuffer) {
			return startListener(t, &Options{Keep: true, Server: Server{MaxConns: 1}, Stdin: strings.NewReader("a")})
		}, hold: func(t *testing.T, c net.Conn) { // stdin reaches a client once it is counted
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				t.Fatalf("the first client was not served: %v", err)
			}
		}},
		{name: "echo --deny", why: "matches --deny 127.0.0.0/8", start: echo(deny, 0)},
		{name: "echo --max-conns", why: "1 client connected (--max-conns)", start: echo(nil, 1), hold: roundTrip},
		{name: "relay --deny", why: "matches --deny 127.0.0.0/8", start: relay(deny, 0)},
		{name: "relay --max-conns", why: "1 connection relayed (--max-conns)", start: relay(nil, 1), hold: roundTrip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
			addr, stderr := tc.start(t)
			if tc.hold != nil {
				first := dial(t, addr)
				defer first.Close()
				tc.hold(t, first)
			}
			expectReset(t, addr)
			waitForText(t, stderr, ": "+tc.why+"\n")
			stderr.mu.Lock()
			defer stderr.mu.Unlock()
			if want := `(?m)^sonde: refused 127\.0\.0\.1:\d+: ` + regexp.QuoteMeta(tc.why) + `$`; !regexp.MustCompile(want).MatchString(stderr.String()) {
				t.Errorf("stderr does not match %s:\n%s", want, stderr.String())
			}
		})
	}
}

// expectReset connects to addr as a client the server refuses, and checks
// that it reads a reset: at once, not after data or an end of file.
func expectReset(t *testing.T, addr net.Addr) {
	t.Helper()
	// On loopback the reset can come before connect returns.
	c, err := net.DialTimeout("tcp", addr.String(), execGuard)
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(execGuard))
		var n int
		n, err = c.Read(make([]byte, 1))
		if n > 0 {
			t.Fatalf("the refused client read %d bytes", n)
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the refused client got %v; want a reset (ECONNRESET)", err)
	}
}

func tcpAddr(t *testing.T, addr string) net.Addr {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
