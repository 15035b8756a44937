package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// A port whose SYNs go unanswered is filtered, after the timeout. With
// Retries, it gets as many more connects, each its whole timeout, and the
// reason counts them.
func TestProbeTCPFiltered(t *testing.T) {
	for _, c := range []struct {
		opts ProbeOptions
		why  string
	}{
		{ProbeOptions{Timeout: 200 * time.Millisecond}, "no answer within 200ms"},
		{ProbeOptions{Timeout: 100 * time.Millisecond, Retries: 2}, "no answer to 3 probes, 100ms each"},
	} {
		addr := porttest.FullQueue(t)
		res, err := ProbeTCP(context.Background(), addr, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.State != Filtered || res.Why != c.why || res.RTT != 0 {
			t.Errorf("ProbeTCP(full accept queue %s, %d retries) = %+v, want filtered: %s", addr, c.opts.Retries, res, c.why)
		}
	}
}

// A probe waiting for an answer ends when its context does, with the
// context's cause, long before its own timeout.
func TestProbeTCPCanceledInFlight(t *testing.T) {
	addr := porttest.FullQueue(t)
	stop := errors.New("interrupted")
	ctx, cancel := context.WithDeadlineCause(context.Background(), time.Now().Add(100*time.Millisecond), stop)
	defer cancel()
	_, err := ProbeTCP(ctx, addr, ProbeOptions{Timeout: guard})
	if !errors.Is(err, stop) {
		t.Errorf("ProbeTCP canceled while waiting: %v, want the cancel cause", err)
	}
}

// On loopback, when the only ephemeral port is the destination port, a
// connect reaches the socket itself (TCP simultaneous open) and succeeds;
// so does a UDP socket's. Go's dialer retries that twice, then gives up
// and returns the self-connection. A probe must call that port closed.
func TestProbeSelfConnect(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	const port = 40000
	netnstest.SetLocalPortRange(t, port, port)
	addr := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(port))

	// The hazard is real here: a plain connect(2) connects to itself.
	// (Go's dialer notices and retries, but the self-connection it closed
	// then holds the only ephemeral port in TIME_WAIT.)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Connect(fd, sockaddr(addr)); err != nil {
		t.Fatalf("plain connect to %s: %v; want a self-connection to show the hazard", addr, err)
	}
	local, _ := syscall.Getsockname(fd)
	peer, _ := syscall.Getpeername(fd)
	if !sameSockaddr(local, peer) {
		t.Fatalf("plain connect to %s: %+v -> %+v, want a self-connection to show the hazard", addr, local, peer)
	}
	syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
	syscall.Close(fd)

	for range 3 { // again and again: never open
		res, err := ProbeTCP(context.Background(), addr, ProbeOptions{Timeout: guard})
		if err != nil {
			t.Fatal(err)
		}
		if res.State != Closed || !strings.Contains(res.Why, "connected to itself") {
			t.Fatalf("ProbeTCP(%s) with the port as the only ephemeral port = %+v, want closed (self-connect)", addr, res)
		}
		res, err = ProbeUDP(context.Background(), addr, ProbeOptions{Timeout: guard})
		if err != nil {
			t.Fatal(err)
		}
		if res.State != Closed || !strings.Contains(res.Why, "connected to itself") {
			t.Fatalf("ProbeUDP(%s) with the port as the only ephemeral port = %+v, want closed (self-connect)", addr, res)
		}
	}
}

// A route of this host that is unreachable or prohibited, or no route
// at all, means nothing was sent: unreachable, not filtered (which only
// an answer from the path, or silence, may say), for TCP and UDP.
func TestProbeNoRouteFromHere(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	netnstest.Run(t, "ip", "route", "add", "unreachable", "192.0.2.1/32")
	netnstest.Run(t, "ip", "route", "add", "prohibit", "192.0.2.2/32")
	for _, tt := range []struct{ addr, why string }{
		{"192.0.2.1:80", "no route from here"},
		{"192.0.2.2:80", "no route from here"},
		{"198.51.100.1:80", "no route from here"}, // no route at all
	} {
		addr := netip.MustParseAddrPort(tt.addr)
		for name, probe := range map[string]func(context.Context, netip.AddrPort, ProbeOptions) (ProbeResult, error){
			"tcp": ProbeTCP, "udp": ProbeUDP,
		} {
			res, err := probe(context.Background(), addr, ProbeOptions{Timeout: guard})
			if err != nil {
				t.Errorf("%s probe of %s: %v, want unreachable", name, addr, err)
				continue
			}
			if res.State != Unreachable || res.Why != tt.why {
				t.Errorf("%s probe of %s = %+v, want unreachable (%s)", name, addr, res, tt.why)
			}
		}
	}
}

// A refused probe leaves its socket in ProbeSockets, and the next probe
// connects again on it: refused again, it keeps the same socket; to a
// listener, it connects (the listener sees the connection) and the
// socket is closed; a connect that must wait takes the socket with it.
// Only refusals keep a socket, and none is kept with a source address
// (it stays bound to it).
func TestProbeSocketsReuse(t *testing.T) {
	ctx := context.Background()
	opts := ProbeOptions{Timeout: guard}
	var s ProbeSockets
	defer s.Close()
	probe := func(addr netip.AddrPort, o ProbeOptions) ProbeResult {
		t.Helper()
		res, wait, err := BeginProbeTCPWith(ctx, addr, o, &s)
		if wait != nil {
			res, err = wait()
		}
		if err != nil {
			t.Fatalf("probe of %s: %v", addr, err)
		}
		return res
	}
	closed := porttest.ClosedPort(t)
	if res := probe(closed, opts); res.State != Closed || !s.kept[0] {
		t.Fatalf("probe of closed %s = %+v, kept %v; want closed, the socket kept", closed, res, s.kept[0])
	}
	fd := s.fd[0]
	if res := probe(closed, opts); res.State != Closed || !s.kept[0] || s.fd[0] != fd {
		t.Fatalf("second probe of closed %s = %+v, kept %v (fd %d, was %d); want closed on the same socket", closed, res, s.kept[0], s.fd[0], fd)
	}

	ln := porttest.Listen(t)
	open := ln.Addr().(*net.TCPAddr).AddrPort()
	if res := probe(open, opts); res.State != Open || s.kept[0] {
		t.Fatalf("probe of listener %s on a kept socket = %+v, kept %v; want open, nothing kept", open, res, s.kept[0])
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(guard))
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("the listener saw no connection from the reused socket: %v", err)
	}
	c.Close()

	probe(closed, opts)
	full := porttest.FullQueue(t)
	if res := probe(full, ProbeOptions{Timeout: 100 * time.Millisecond}); res.State != Filtered || s.kept[0] {
		t.Errorf("probe of a full accept queue %s on a kept socket = %+v, kept %v; want filtered, nothing kept", full, res, s.kept[0])
	}

	src := ProbeOptions{Timeout: guard, Source: netip.MustParseAddr("127.0.0.1")}
	if res := probe(closed, src); res.State != Closed || s.kept[0] {
		t.Errorf("probe of closed %s from a source address = %+v, kept %v; want closed, nothing kept", closed, res, s.kept[0])
	}
	probe(closed, opts)
	s.Close()
	if s.kept[0] {
		t.Errorf("Close left a socket kept")
	}
}
