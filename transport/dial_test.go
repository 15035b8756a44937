package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
)

// echoOnce serves one client of ln: it sends back the first line it reads.
// The returned channel reports how that went.
func echoOnce(ln net.Listener) <-chan error {
	return porttest.ServeOne(ln, func(c net.Conn) error {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil {
			_, err = io.WriteString(c, line)
		}
		return err
	})
}

func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(guard))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "ping\n" {
		t.Fatalf("echo: got %q, %v; want %q", got, err, "ping\n")
	}
}

func TestDialTCP(t *testing.T) {
	ln := porttest.Listen(t)
	served := echoOnce(ln)
	port := ln.Addr().(*net.TCPAddr).Port

	var resolved, attempts int
	c, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: port, Numeric: true, Source: "127.0.0.1"}, DialOptions{
		Network:   "tcp",
		Timeout:   guard,
		OnResolve: func(string, []netip.Addr) { resolved++ },
		OnAttempt: func(string, error) { attempts++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddr().String(); got != ln.Addr().String() {
		t.Errorf("connected to %s, want %s", got, ln.Addr())
	}
	if ip := c.LocalAddr().(*net.TCPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("local address %s, want 127.0.0.1 (-s)", ip)
	}
	roundTrip(t, c)
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if resolved != 0 || attempts != 0 {
		t.Errorf("OnResolve called %d times, OnAttempt %d times; want none for an IP literal that answers", resolved, attempts)
	}
}

func TestDialUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	c, err := Dial(context.Background(), Endpoint{Host: "127.0.0.1", Port: port}, DialOptions{Network: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("datagram")); err != nil {
		t.Fatal(err)
	}
	pc.SetDeadline(time.Now().Add(guard))
	buf := make([]byte, 64)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "datagram" || from.String() != c.LocalAddr().String() {
		t.Errorf("received %q from %v (%v), want %q from %v", buf[:n], from, err, "datagram", c.LocalAddr())
	}
}

func TestDialUnix(t *testing.T) {
	path := socketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := echoOnce(ln)
	c, err := Dial(context.Background(), Endpoint{Host: path}, DialOptions{Network: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c)
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func TestDialUnixMissing(t *testing.T) {
	path := socketPath(t) // its directory exists, the socket does not
	_, err := Dial(context.Background(), Endpoint{Host: path}, DialOptions{Network: "unix"})
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("dial a missing socket: got %v (%T), want a *DialError", err, err)
	}
	x := explain(t, err)
	if want := "cannot connect to " + path + ": no such socket file"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
}

func TestDialOnAttempt(t *testing.T) {
	host, port := closedPort(t, "tcp")
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	type attempt struct {
		addr string
		err  error
	}
	var got []attempt
	_, err := Dial(context.Background(), Endpoint{Host: host, Port: port}, DialOptions{
		Network:   "tcp",
		OnAttempt: func(a string, err error) { got = append(got, attempt{a, err}) },
	})
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("dial %s: got %v (%T), want a *DialError", addr, err, err)
	}
	if len(got) != 1 || got[0].addr != addr || !errors.Is(got[0].err, syscall.ECONNREFUSED) {
		t.Fatalf("OnAttempt saw %v, want one refused attempt on %s", got, addr)
	}
	if len(de.Attempts) != 1 || de.Attempts[0].Addr != addr || de.Attempts[0].Err != got[0].err {
		t.Errorf("DialError.Attempts = %v, want what OnAttempt saw", de.Attempts)
	}
	if de.Target != addr {
		t.Errorf("DialError.Target = %q, want %q", de.Target, addr)
	}
}

// A name is tried on each of its addresses, and every failure is reported.
// "localhost" comes from the hosts file: one address or two, depending on
// the machine; the test holds for both.
func TestDialNameEveryAddress(t *testing.T) {
	_, port := closedPort(t, "tcp")
	var resolved []netip.Addr
	var tried []string
	_, err := Dial(context.Background(), Endpoint{Host: "localhost", Port: port}, DialOptions{
		Network:   "tcp",
		OnResolve: func(host string, addrs []netip.Addr) { resolved = addrs },
		OnAttempt: func(addr string, err error) { tried = append(tried, addr) },
	})
	if err == nil {
		t.Skip("something listens on the port just closed, on another loopback address")
	}
	if len(resolved) == 0 {
		t.Fatalf("OnResolve was not told the addresses of localhost (error %v)", err)
	}
	if len(tried) != len(resolved) {
		t.Fatalf("tried %v, want one attempt for each of %v", tried, resolved)
	}
	for i, a := range resolved {
		if want := netip.AddrPortFrom(a, uint16(port)).String(); tried[i] != want {
			t.Errorf("attempt %d on %s, want %s", i, tried[i], want)
		}
	}
	x := explain(t, err)
	wantContains(t, "Msg", x.Msg, "cannot connect to localhost:"+strconv.Itoa(port))
}

func TestExplainDialTwoAttempts(t *testing.T) {
	// Two real refusals, as a name with two addresses would meet them.
	var attempts []Attempt
	for range 2 {
		host, port := closedPort(t, "tcp")
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		_, err := net.Dial("tcp", addr)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial %s: %v, want connection refused", addr, err)
		}
		attempts = append(attempts, Attempt{Addr: addr, Err: err})
	}
	err := &DialError{Network: "tcp", Target: "db.example:5432", Attempts: attempts}
	x := explain(t, err)
	if want := "cannot connect to db.example:5432: all 2 addresses failed"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if len(x.Details) != 2 {
		t.Fatalf("Details = %q, want one line per address", x.Details)
	}
	for i, a := range attempts {
		if want := "  " + a.Addr + ": connection refused"; x.Details[i] != want {
			t.Errorf("Details[%d] = %q, want %q", i, x.Details[i], want)
		}
	}
	if x.Hint == "" || x.Usage {
		t.Errorf("Explain = %+v, want a hint and no usage error", x)
	}
	// Error() names both addresses too, once each.
	msg := err.Error()
	for _, a := range attempts {
		if strings.Count(msg, a.Addr) != 1 {
			t.Errorf("Error() = %q, want %s once", msg, a.Addr)
		}
	}
}

func TestExplainDialTimeout(t *testing.T) {
	err := &DialError{Network: "tcp", Target: "192.0.2.1:80", Timeout: 3 * time.Second,
		Attempts: []Attempt{{Addr: "192.0.2.1:80", Err: &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}}}}
	x := explain(t, err)
	if want := "cannot connect to 192.0.2.1:80: no answer within 3s"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	wantContains(t, "Hint", x.Hint, "firewall")
	// A name shows the address it reached too.
	err.Target = "web.example:80"
	if x := explain(t, err); !strings.HasPrefix(x.Msg, "cannot connect to web.example:80 (192.0.2.1:80): ") {
		t.Errorf("Msg = %q, want the name and the address", x.Msg)
	}
}

// Misuse is reported before any packet is sent.
func TestDialInputErrors(t *testing.T) {
	tests := []struct {
		name    string
		target  Endpoint
		opts    DialOptions
		wantErr string
	}{
		{"empty host", Endpoint{Port: 80}, DialOptions{Network: "tcp"}, "missing host to connect to"},
		{"name with -n", Endpoint{Host: "example.com", Port: 80, Numeric: true}, DialOptions{Network: "tcp"}, "-n forbids DNS lookups"},
		{"family mismatch", Endpoint{Host: "127.0.0.1", Port: 80, Family: 6}, DialOptions{Network: "tcp"}, "is not an IPv6 address"},
		{"source family", Endpoint{Host: "127.0.0.1", Port: 80, Source: "::1"}, DialOptions{Network: "tcp"}, "different address families"},
		{"source name with -n", Endpoint{Host: "127.0.0.1", Port: 80, Source: "localhost", Numeric: true}, DialOptions{Network: "tcp"}, "-n forbids DNS lookups"},
		{"unix without path", Endpoint{}, DialOptions{Network: "unix"}, "missing socket path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), tt.target, tt.opts)
			if err == nil {
				c.Close()
			}
			checkResult(t, err, tt.wantErr)
			if x := explain(t, err); !x.Usage {
				t.Errorf("Explain = %+v, want a usage error", x)
			}
		})
	}
}

func TestDialCanceled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	cancel(stop)
	_, port := closedPort(t, "tcp")
	_, err := Dial(ctx, Endpoint{Host: "127.0.0.1", Port: port}, DialOptions{Network: "tcp"})
	if !errors.Is(err, stop) {
		t.Errorf("dial with a canceled context: %v, want the cancel cause", err)
	}
}

// -w bounds name resolution too: a resolver that never answers is given
// up on after -w, not after its own retries (5 s each, twice), and the
// message says -w cut it short.
func TestDialResolveBoundedByTimeout(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // holds the port, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	saved := net.DefaultResolver
	defer func() { net.DefaultResolver = saved }()
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", silent.LocalAddr().String())
	}}

	stop := errors.New("guard expired")
	ctx, cancel := context.WithTimeoutCause(context.Background(), guard, stop)
	defer cancel()
	const name = "never-answered.sonde-test.example"
	_, err = Dial(ctx, Endpoint{Host: name, Port: 80}, DialOptions{Network: "tcp", Timeout: 100 * time.Millisecond})
	var re *ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("dial with a silent resolver: got %v (%T), want a *ResolveError", err, err)
	}
	x := explain(t, err)
	if want := "cannot resolve " + name + ": the resolver did not answer within 100ms (-w)"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	wantContains(t, "hint", x.Hint, "/etc/resolv.conf", "-w")
}

// A link-local IPv6 address needs a zone that names an interface of this
// machine; without one the kernel answers only "invalid argument".
func TestResolveLinkLocalZone(t *testing.T) {
	lo := loopbackInterface(t)
	for _, tc := range []struct{ host, msg string }{
		{"fe80::1", "fe80::1 is a link-local IPv6 address: it needs a zone, the interface to use"},
		{"ff02::1", "ff02::1 is a link-local IPv6 address: it needs a zone, the interface to use"},
		{"fe80::1%no-such-if0", `bad zone in fe80::1%no-such-if0: this machine has no interface "no-such-if0"`},
		{"fe80::1%" + lo, ""},
		{"2001:db8::1", ""},
	} {
		_, err := Resolve(context.Background(), tc.host, 0, false)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("Resolve(%q): %v, want no error", tc.host, err)
			}
			continue
		}
		var in *InputError
		if !errors.As(err, &in) || in.Msg != tc.msg || !strings.Contains(in.Hint, "ip link") {
			t.Errorf("Resolve(%q) = %v, want the input error %q with a hint to list interfaces", tc.host, err, tc.msg)
		}
	}
}

func loopbackInterface(t *testing.T) string {
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagLoopback != 0 {
			return ifi.Name
		}
	}
	t.Fatal("no loopback interface")
	return ""
}
