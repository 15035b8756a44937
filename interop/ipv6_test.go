//go:build linux

package interop

import (
	"net"
	"strconv"
	"testing"
)

// TestIPv6Loopback: sonde over ::1, with the address written bare (`::1
// PORT`) and bracketed (`[::1]:PORT`): both spellings must reach the same
// IPv6 address.
func TestIPv6Loopback(t *testing.T) {
	t.Parallel()
	requireIPv6Loopback(t)

	t.Run("sonde-connects-ncat-6", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "ncat")
		const sent, reply = "hello over ipv6\n", "hello from ncat -6\n"
		peer, port := startPeerListener(t, "tcp6", func(port int) *proc {
			return start(t, stdio{Stdin: dataFile(t, []byte(reply))}, "ncat", "-6", "-l", "::1", strconv.Itoa(port))
		})
		talk(t, peer, sent, reply, "::1", strconv.Itoa(port))
	})

	t.Run("sonde-connects-python-inet6-seed-server", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "tcp_server.py", "::1")
		port := printedPort(t, server)
		target := net.JoinHostPort("::1", strconv.Itoa(port)) // [::1]:PORT
		sondeGets(t, "Hello TCP Server", "Echo: Hello TCP Server.", target)
		server.ExpectExit(t, 0)
	})

	t.Run("nc-6-connects-sonde-listener", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "nc.openbsd")
		payload := randomPayload(t, 1<<20)
		out := newOutFile(t)
		s := sonde(t, stdio{Stdout: out}, "-l", "::1", "0")
		host, port := s.ListenAddr(t)
		if host != "::1" {
			t.Errorf("sonde -l ::1 0 reported listening on host %q, want ::1", host)
		}
		peer := start(t, stdio{Stdin: dataFile(t, payload)}, "nc.openbsd", "-6", "-N", "::1", strconv.Itoa(port))
		checkDelivered(t, peer, s, func() []byte { return out.Contents(t) }, payload)
	})

	t.Run("udp-sonde-to-python-inet6-echo", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "dgram_echo.py", "inet", "::1")
		port := printedPort(t, server)
		sondeGets(t, "hi over udp6\n", "hi over udp6\n", "-u", "-q", "-1", "-w", "10", "--replies", "1", "::1", strconv.Itoa(port))
	})
}
