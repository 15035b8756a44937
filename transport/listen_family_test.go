package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// needIPv6 fails the test when the loopback has no IPv6: the family
// rules of a wildcard listener cannot be checked without it.
func needIPv6(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatalf("this test needs IPv6 on the loopback (::1): %v", err)
	}
	ln.Close()
}

// reaches tells whether a client on loopback address ip reaches the
// listener's port, and fails the test on anything but a connect or a
// refusal.
func reaches(t *testing.T, ip string, port int) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), 10*time.Second)
	if err == nil {
		c.Close()
		return true
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v", ip, err)
	}
	return false
}

// A listener's HOST chooses its family: 0.0.0.0 is IPv4 only, :: is IPv6
// only, no HOST is both, and -v says which.
func TestListenWildcardFamily(t *testing.T) {
	needIPv6(t)
	for _, tc := range []struct {
		host       string
		v4, v6     bool
		scope, net string
	}{
		{"0.0.0.0", true, false, "IPv4 only", "0.0.0.0"},
		{"::", false, true, "IPv6 only", "::"},
		{"", true, true, "IPv4 and IPv6", "::"},
	} {
		t.Run("host="+tc.host, func(t *testing.T) {
			e := Endpoint{Host: tc.host, Numeric: true}
			ln, err := Listen(context.Background(), e, ListenOptions{Network: "tcp"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			a := ln.Addr().(*net.TCPAddr)
			if got := a.IP.String(); got != tc.net {
				t.Errorf("bound %s, want %s", a, tc.net)
			}
			if got := reaches(t, "127.0.0.1", a.Port); got != tc.v4 {
				t.Errorf("a client on 127.0.0.1 reached it: %v, want %v", got, tc.v4)
			}
			if got := reaches(t, "::1", a.Port); got != tc.v6 {
				t.Errorf("a client on ::1 reached it: %v, want %v", got, tc.v6)
			}
			if got := ListenScope(e, ln.Addr()); got != tc.scope {
				t.Errorf("ListenScope = %q, want %q", got, tc.scope)
			}
		})
	}
}

// A UDP listener on 0.0.0.0 is an IPv4 socket too, and -6 with no HOST
// an IPv6-only one.
func TestListenPacketWildcardFamily(t *testing.T) {
	needIPv6(t)
	pc, err := ListenPacket(context.Background(), Endpoint{Host: "0.0.0.0", Numeric: true}, ListenOptions{Network: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if got := pc.LocalAddr().(*net.UDPAddr).IP.String(); got != "0.0.0.0" {
		t.Errorf("udp on 0.0.0.0 bound %s, want an IPv4 socket on 0.0.0.0", pc.LocalAddr())
	}
	e := Endpoint{Family: 6}
	pc6, err := ListenPacket(context.Background(), e, ListenOptions{Network: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc6.Close()
	if got := ListenScope(e, pc6.LocalAddr()); got != "IPv6 only" {
		t.Errorf("ListenScope(-6) = %q, want IPv6 only", got)
	}
}

// Only a wildcard gets a scope: any other address names itself.
func TestListenScopeOfAnAddress(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1},
		&net.UDPAddr{IP: net.ParseIP("::1"), Port: 1},
		&net.UnixAddr{Name: "/tmp/x.sock", Net: "unix"},
	} {
		if got := ListenScope(Endpoint{}, a); got != "" {
			t.Errorf("ListenScope(%s) = %q, want none", a, got)
		}
	}
}
