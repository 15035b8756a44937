package transport

import (
	"context"
	"errors"
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
