package modes

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// A TLS server that accepts the connection and never answers the
// handshake (a plain-text port) cannot hold connect for ever: without -w
// the handshake has a bound of its own, and the message says what
// happened. With -v, the address is named before connecting.
func TestConnectTLSHandshakeBounded(t *testing.T) {
	ln := porttest.Listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c // held open, silent, until the test ends
		}
		close(accepted)
	}()
	defer func() {
		if c, ok := <-accepted; ok {
			c.Close()
		}
	}()

	saved := testOnlyTLSTimeout
	testOnlyTLSTimeout = 100 * time.Millisecond
	defer func() { testOnlyTLSTimeout = saved }()

	var stderr syncBuffer
	addr := ln.Addr().(*net.TCPAddr)
	o := &Options{
		Server:    Server{Network: "tcp", UI: ui.New(&stderr, 1)},
		Target:    transport.Endpoint{Host: "127.0.0.1", Port: addr.Port},
		TLSClient: &tls.Config{InsecureSkipVerify: true},
		Stdin:     strings.NewReader(""),
		Stdout:    io.Discard,
	}
	guard := errors.New("guard expired: the handshake was never given up")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 30*time.Second, guard)
	defer cancel()
	err := Connect(ctx, o)
	if errors.Is(err, guard) {
		t.Fatal(err)
	}
	x := transport.Explain(err)
	want := "TLS handshake with " + addr.String() + " timed out after 100ms: the server accepted the connection but never answered the handshake (not a TLS port?)"
	if x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	log := stderr.String()
	connecting := strings.Index(log, "sonde: connecting to "+addr.String()+" (tcp)…\n")
	connected := strings.Index(log, "sonde: connected to "+addr.String())
	if connecting < 0 || connected < connecting {
		t.Errorf("-v output:\n%s\nwant a line naming %s before it connects", log, addr)
	}
}

// With -d there is no stdin to end, so -q counts from the connection, as
// in nc: a peer that never closes does not hold sonde -d -q for ever.
func TestConnectNoStdinQuit(t *testing.T) {
	tcp := porttest.Listen(t)
	go func() {
		if c, err := tcp.Accept(); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c) // silent until sonde closes
		}
	}()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0") // silent
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	for network, addr := range map[string]net.Addr{"tcp": tcp.Addr(), "udp": udp.LocalAddr()} {
		ap := netip.MustParseAddrPort(addr.String())
		o := &Options{
			Server:  Server{Network: network, UI: ui.New(io.Discard, 0)},
			Target:  transport.Endpoint{Host: ap.Addr().String(), Port: int(ap.Port())},
			NoStdin: true,
			QuitSet: true,
			Quit:    50 * time.Millisecond,
			Stdout:  io.Discard,
		}
		guard := errors.New("guard expired: -q never ended the session")
		ctx, cancel := context.WithTimeoutCause(context.Background(), 30*time.Second, guard)
		err := Connect(ctx, o)
		cancel()
		if err != nil {
			t.Errorf("%s: sonde -d -q 50ms: %v, want a clean end", network, err)
		}
	}
}
