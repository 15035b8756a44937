package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// A source port another socket holds is named as the source's fault, with
// its holder: nothing was sent, so no firewall is to blame.
func TestDialSourcePortInUse(t *testing.T) {
	ln := porttest.Listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	host, target := closedPort(t, "tcp")
	_, err := Dial(context.Background(), Endpoint{Host: host, Port: target},
		DialOptions{Network: "tcp", SourcePort: port, Timeout: guard})
	var se *SourceError
	if !errors.As(err, &se) {
		t.Fatalf("dial from a source port in use: got %v (%T), want a *SourceError", err, err)
	}
	x := explain(t, err)
	if want := "source port " + strconv.Itoa(port) + " is in use"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if !strings.HasPrefix(x.Hint, "held by ") || !strings.Contains(x.Hint, "-p") || strings.Contains(x.Hint, "firewall") {
		t.Errorf("Hint = %q, want the holder and -p, no firewall", x.Hint)
	}
}

// A port below 1024 as the source, without the privilege to bind it, is
// said to need root; the connect never started.
func TestDialSourcePortPrivileged(t *testing.T) {
	if !netnstest.PrivateWithout(t, "net_bind_service") {
		return
	}
	host, target := closedPort(t, "tcp")
	_, err := Dial(context.Background(), Endpoint{Host: host, Port: target},
		DialOptions{Network: "tcp", SourcePort: 80, Timeout: guard})
	x := explain(t, err)
	if want := "cannot use source port 80: ports below 1024 need root or CAP_NET_BIND_SERVICE"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if want := "choose a source port above 1023 with -p, or drop -p"; x.Hint != want {
		t.Errorf("Hint = %q, want %q", x.Hint, want)
	}
}

// On a machine without IPv6, an IPv6 target is said to be unreachable for
// that reason, with -4 as the way out, and no word of a source address
// nobody gave.
func TestDialIPv6Unavailable(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	netnstest.Run(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
	netnstest.Run(t, "sysctl", "-q", "-w", "net.ipv6.conf.lo.disable_ipv6=1")
	for _, host := range []string{"::1", "2001:db8::1"} {
		_, err := Dial(context.Background(), Endpoint{Host: host, Port: 80}, DialOptions{Network: "tcp", Timeout: guard})
		x := explain(t, err)
		want := "cannot connect to [" + host + "]:80: this machine has no IPv6 connectivity (no IPv6 address or route to it)"
		if x.Msg != want || !strings.Contains(x.Hint, "-4") || strings.Contains(x.Msg+x.Hint, "source") {
			t.Errorf("dial %s without IPv6: %q / hint %q; want %q, with -4 in the hint", host, x.Msg, x.Hint, want)
		}
	}
}
