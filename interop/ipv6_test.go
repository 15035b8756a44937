//go:build linux

package interop

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestIPv6Loopback: sonde over ::1, with the address written bare (`::1
// PORT`) and bracketed (`[::1]:PORT`) (SPEC §3, IPv6).
func TestIPv6Loopback(t *testing.T) {
	t.Parallel()
	requireIPv6Loopback(t)

	t.Run("sonde-connects-ncat-6", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "ncat")
		const sent, reply = "hello over ipv6\n", "hello from ncat -6\n"
		peer, port := startPeerListener(t, "tcp6", func(port int) *proc {
			return start(t, stdio{stdin: dataFile(t, []byte(reply))}, "ncat", "-6", "-l", "::1", strconv.Itoa(port))
		})
		s := sonde(t, stdio{stdin: strings.NewReader(sent)}, "::1", strconv.Itoa(port))
		s.expectExit(t, 0)
		sameBytes(t, "sonde stdout", s.stdout.Bytes(), []byte(reply))
		peer.expectExit(t, 0)
		sameBytes(t, "ncat stdout", peer.stdout.Bytes(), []byte(sent))
	})

	t.Run("sonde-connects-python-inet6-seed-server", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "tcp_server.py", "::1")
		port := server.printedPort(t)
		target := net.JoinHostPort("::1", strconv.Itoa(port)) // [::1]:PORT
		s := sonde(t, stdio{stdin: strings.NewReader("Hello TCP Server")}, target)
		s.expectExit(t, 0)
		sameBytes(t, "sonde stdout", s.stdout.Bytes(), []byte("Echo: Hello TCP Server."))
		server.expectExit(t, 0)
	})

	t.Run("nc-6-connects-sonde-listener", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "nc.openbsd")
		payload := randomPayload(t, 1<<20)
		out := newOutFile(t)
		s := sonde(t, stdio{stdout: out}, "-l", "::1", "0")
		host, port := s.listenAddr(t)
		if host != "::1" {
			t.Errorf("sonde -l ::1 0 reported listening on host %q, want ::1", host)
		}
		peer := start(t, stdio{stdin: dataFile(t, payload)}, "nc.openbsd", "-6", "-N", "::1", strconv.Itoa(port))
		peer.expectExit(t, 0)
		s.expectExit(t, 0)
		sameBytes(t, "sonde stdout", out.contents(t), payload)
	})

	t.Run("udp-sonde-to-python-inet6-echo", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "dgram_echo.py", "inet", "::1")
		port := server.printedPort(t)
		s := sonde(t, stdio{stdin: strings.NewReader("hi over udp6\n")}, "-u", "::1", strconv.Itoa(port))
		s.expectExit(t, 0)
		sameBytes(t, "sonde stdout", s.stdout.Bytes(), []byte("hi over udp6\n"))
	})
}
