package transport

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// holdPastDeadline makes the next probes wait, before they look for
// their answer, until the answer is queued (events, bounded) and then
// until their deadline has passed: as a goroutine that runs late on a
// loaded machine does.
func holdPastDeadline(t *testing.T, events int16) {
	t.Helper()
	testHookProbeWait = func(fd int, deadline time.Time) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		if n, err := unix.Poll(pfd, 10000); n != 1 || err != nil {
			t.Errorf("no answer queued within 10 s: %v", err)
		}
		time.Sleep(time.Until(deadline) + 50*time.Millisecond)
	}
	t.Cleanup(func() { testHookProbeWait = nil })
}

// A UDP reply, or an ICMP port unreachable, queued in time but read only
// after the deadline is the answer: the port is not open|filtered.
func TestProbeUDPLateReader(t *testing.T) {
	holdPastDeadline(t, unix.POLLIN|unix.POLLERR)
	for _, c := range []struct {
		what string
		addr netip.AddrPort
		want PortState
	}{
		{"echo server", porttest.UDPEcho(t, nil), Open},
		{"closed port", porttest.ClosedPort(t), Closed},
	} {
		res, err := ProbeUDP(context.Background(), c.addr, ProbeOptions{Timeout: 100 * time.Millisecond})
		if err != nil || res.State != c.want {
			t.Errorf("ProbeUDP(%s, %s) read late: %+v, %v; want %s", c.what, c.addr, res, err, c.want)
		}
	}
}

// A handshake done in time but seen only after the deadline is open,
// not filtered. The first SYN is dropped, so that the connect is still
// in progress when the probe starts to wait (Linux sends the SYN again
// after 1 s).
func TestProbeTCPLateWaiter(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	addr := porttest.Listener(t)
	netnstest.Run(t, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", strconv.Itoa(int(addr.Port())), "--syn",
		"-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP")
	waited := false
	holdPastDeadline(t, unix.POLLOUT)
	hold := testHookProbeWait
	testHookProbeWait = func(fd int, deadline time.Time) { waited = true; hold(fd, deadline) }
	res, err := ProbeTCP(context.Background(), addr, ProbeOptions{Timeout: 1500 * time.Millisecond})
	if err != nil || res.State != Open || !waited {
		t.Errorf("ProbeTCP(%s) seen late: %+v, %v (waited for the handshake: %v); want open", addr, res, err, waited)
	}
}
