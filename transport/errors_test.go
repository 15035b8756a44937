package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
)

// guard bounds a blocking step so that a broken test fails instead of
// hanging; the tests never assert on it.
const guard = 30 * time.Second

// explain runs Explain and checks what every explanation must be: a
// one-line message, details of one line each.
func explain(t *testing.T, err error) Explanation {
	t.Helper()
	x := Explain(err)
	if x.Msg == "" || strings.ContainsAny(x.Msg, "\r\n") {
		t.Errorf("Explain(%v).Msg = %q: want one non-empty line", err, x.Msg)
	}
	for _, d := range x.Details {
		if strings.ContainsAny(d, "\r\n") {
			t.Errorf("Explain(%v): detail %q is not one line", err, d)
		}
	}
	return x
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q does not contain %q", what, got, w)
		}
	}
}

// closedPort returns a loopback address where nothing listens any more:
// a port the kernel just handed out, then released.
func closedPort(t *testing.T, network string) (host string, port int) {
	t.Helper()
	var addr net.Addr
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr()
		ln.Close()
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr()
		pc.Close()
	}
	h, p, _ := net.SplitHostPort(addr.String())
	n, _ := strconv.Atoi(p)
	return h, n
}

func TestExplainConnectionRefused(t *testing.T) {
	host, port := closedPort(t, "tcp")
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	_, err := Dial(context.Background(), Endpoint{Host: host, Port: port}, DialOptions{Network: "tcp"})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: got %v, want connection refused", addr, err)
	}
	x := explain(t, err)
	if x.Usage {
		t.Error("a refused connection is not a usage error")
	}
	wantContains(t, "Msg", x.Msg, "cannot connect to "+addr, "connection refused")
	wantContains(t, "Hint", x.Hint, "nothing listens on that port")
}

func TestExplainListenInUse(t *testing.T) {
	held := porttest.Listen(t)
	addr := held.Addr().String()
	port := held.Addr().(*net.TCPAddr).Port

	ln, err := Listen(context.Background(), Endpoint{Host: "127.0.0.1", Port: port}, ListenOptions{Network: "tcp"})
	if err == nil {
		ln.Close()
		t.Fatalf("second listener on %s: no error", addr)
	}
	var le *ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listener on %s: got %v (%T), want a *ListenError for EADDRINUSE", addr, err, err)
	}
	if le.Port != port || le.Addr != addr {
		t.Errorf("ListenError names %s (port %d), want %s", le.Addr, le.Port, addr)
	}
	x := explain(t, err)
	if x.Usage {
		t.Error("a port in use is not a usage error")
	}
	if want := "cannot listen on " + addr + ": address already in use"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if runtime.GOOS != "linux" {
		return // FindPortHolder reads /proc
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	want := Holder{Name: strings.TrimSpace(string(comm)), PID: os.Getpid()}
	if le.Holder == nil || *le.Holder != want {
		t.Fatalf("Holder = %v, want %v (this test process)", le.Holder, &want)
	}
	if wantHint := fmt.Sprintf("held by %s, pid %d; stop it or choose another port", want.Name, want.PID); x.Hint != wantHint {
		t.Errorf("Hint = %q, want %q", x.Hint, wantHint)
	}
}

func TestFindPortHolderFree(t *testing.T) {
	_, port := closedPort(t, "tcp")
	if h := FindPortHolder("tcp", port); h != nil {
		t.Errorf("FindPortHolder(tcp, %d) = %v for a closed port", port, h)
	}
	if h := FindPortHolder("tcp", 0); h != nil {
		t.Errorf("FindPortHolder(tcp, 0) = %v", h)
	}
}

func TestFindPortHolderUDP(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("FindPortHolder reads /proc")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	if h := FindPortHolder("udp", port); h == nil || h.PID != os.Getpid() {
		t.Errorf("FindPortHolder(udp, %d) = %v, want this process (pid %d)", port, h, os.Getpid())
	}
}

// The hints sonde gives when it cannot see the holder, or when the kernel
// refuses the address itself.
func TestExplainListenHints(t *testing.T) {
	tests := []struct {
		name     string
		err      *ListenError
		wantMsg  string
		wantHint string
	}{
		{
			name:     "in use, holder unknown, tcp",
			err:      &ListenError{Network: "tcp", Addr: "127.0.0.1:8080", Port: 8080, Err: syscall.EADDRINUSE},
			wantMsg:  "cannot listen on 127.0.0.1:8080: address already in use",
			wantHint: "find what holds it with `ss -ltnp 'sport = :8080'` or `lsof -i :8080`, or choose another port",
		},
		{
			name:     "in use, holder unknown, udp",
			err:      &ListenError{Network: "udp", Addr: "[::]:53", Port: 53, Err: syscall.EADDRINUSE},
			wantMsg:  "cannot listen on [::]:53: address already in use",
			wantHint: "`ss -lunp 'sport = :53'`",
		},
		{
			name:     "unix in use, holder unknown",
			err:      &ListenError{Network: "unix", Addr: "/run/app.sock", Err: syscall.EADDRINUSE},
			wantMsg:  "cannot listen on /run/app.sock: address already in use",
			wantHint: "a live process listens on that socket; choose another path",
		},
		{
			name:     "unix in use, holder known",
			err:      &ListenError{Network: "unix", Addr: "/run/app.sock", Err: syscall.EADDRINUSE, Holder: &Holder{Name: "app", PID: 42}},
			wantMsg:  "cannot listen on /run/app.sock: address already in use",
			wantHint: "held by app, pid 42; stop it or choose another path",
		},
		{
			name:     "privileged port",
			err:      &ListenError{Network: "tcp", Addr: "0.0.0.0:80", Port: 80, Err: &os.SyscallError{Syscall: "bind", Err: syscall.EACCES}},
			wantMsg:  "cannot listen on 0.0.0.0:80: permission denied",
			wantHint: "CAP_NET_BIND_SERVICE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := explain(t, tt.err)
			if x.Msg != tt.wantMsg {
				t.Errorf("Msg = %q, want %q", x.Msg, tt.wantMsg)
			}
			wantContains(t, "Hint", x.Hint, tt.wantHint)
		})
	}
}

// 192.0.2.1 (TEST-NET-1) is on no interface: bind fails locally, no packet
// leaves the machine.
func TestExplainListenAddressNotAvailable(t *testing.T) {
	ln, err := Listen(context.Background(), Endpoint{Host: "192.0.2.1", Port: 0, Numeric: true}, ListenOptions{Network: "tcp"})
	if err == nil {
		ln.Close()
		t.Skip("192.0.2.1 is configured on this machine")
	}
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("listen on 192.0.2.1: got %v, want EADDRNOTAVAIL", err)
	}
	x := explain(t, err)
	if want := "cannot listen on 192.0.2.1:0: address not available"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	wantContains(t, "Hint", x.Hint, "belongs to no interface")
}

func TestExplainResolveFailure(t *testing.T) {
	// .invalid never exists (RFC 6761). Whether a resolver answers "no such
	// host" or cannot be reached depends on the machine; both must be
	// explained as a failure to resolve that name.
	_, err := Resolve(context.Background(), "nosuch.invalid", 0, false)
	var re *ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("Resolve(nosuch.invalid): got %v (%T), want a *ResolveError", err, err)
	}
	x := explain(t, err)
	if !strings.HasPrefix(x.Msg, "cannot resolve nosuch.invalid") {
		t.Errorf("Msg = %q, want it to start with %q", x.Msg, "cannot resolve nosuch.invalid")
	}
	if x.Usage {
		t.Error("a failed lookup is not a usage error")
	}
	t.Logf("on this machine: %s (hint: %s)", x.Msg, x.Hint)
}

func TestExplainDNSError(t *testing.T) {
	tests := []struct {
		err     *net.DNSError
		wantMsg string
	}{
		{&net.DNSError{Err: "no such host", Name: "nosuch.example", IsNotFound: true}, "cannot resolve nosuch.example: no such host"},
		{&net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}, "cannot resolve slow.example: the resolver did not answer in time"},
		{&net.DNSError{Err: "connection refused", Name: "x.example", Server: "10.0.0.53:53"}, "cannot resolve x.example: the resolver could not be reached (connection refused)"},
	}
	for _, tt := range tests {
		for _, err := range []error{tt.err, &ResolveError{Host: tt.err.Name, Err: tt.err}} {
			if x := explain(t, err); x.Msg != tt.wantMsg || x.Hint == "" {
				t.Errorf("Explain(%T %v) = %q, hint %q; want %q and a hint", err, err, x.Msg, x.Hint, tt.wantMsg)
			}
		}
	}
	x := explain(t, &ResolveError{Host: "v4only.example", Family: 6, Err: errNoAddrOfFamily})
	if want := "cannot resolve v4only.example: it has no IPv6 address"; x.Msg != want || x.Hint != "drop -6, or use the other address family" {
		t.Errorf("no address of the family: got %q, hint %q", x.Msg, x.Hint)
	}
	// A lookup cut short names the flag whose time ran out.
	slow := &net.DNSError{Err: "name resolution timed out", Name: "slow.example", IsTimeout: true}
	x = explain(t, &ResolveError{Host: "slow.example", Timeout: time.Second, Err: slow})
	if want := "cannot resolve slow.example: the resolver did not answer within 1s (-w)"; x.Msg != want || !strings.HasSuffix(x.Hint, "or a longer -w") {
		t.Errorf("-w ran out: got %q, hint %q", x.Msg, x.Hint)
	}
	x = explain(t, &ResolveError{Host: "slow.example", Timeout: 2 * time.Second, Bound: "--timeout", Err: slow})
	if want := "cannot resolve slow.example: the resolver did not answer before --timeout (2s) ran out"; x.Msg != want || !strings.HasSuffix(x.Hint, "or a longer --timeout") {
		t.Errorf("--timeout ran out: got %q, hint %q", x.Msg, x.Hint)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		host    string
		family  int
		numeric bool
		want    string // the one address, or "" for an input error
		wantErr string
	}{
		{host: "127.0.0.1", want: "127.0.0.1"},
		{host: "127.0.0.1", family: 4, numeric: true, want: "127.0.0.1"},
		{host: "::1", family: 6, want: "::1"},
		{host: "::ffff:127.0.0.1", family: 4, want: "127.0.0.1"},
		{host: "fe80::1%eth0", numeric: true, want: "fe80::1%eth0"},
		{host: "127.0.0.1", family: 6, wantErr: "127.0.0.1 is not an IPv6 address (-6 was given)"},
		{host: "::1", family: 4, wantErr: "::1 is not an IPv4 address (-4 was given)"},
		{host: "localhost", numeric: true, wantErr: `-n forbids DNS lookups, and "localhost" is not a numeric address`},
		{host: "nosuch.invalid", numeric: true, wantErr: "-n forbids DNS lookups"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d/%v", tt.host, tt.family, tt.numeric), func(t *testing.T) {
			addrs, err := Resolve(ctx, tt.host, tt.family, tt.numeric)
			if tt.wantErr != "" {
				x := explain(t, err)
				checkInputError(t, err)
				if !x.Usage || !strings.Contains(x.Msg, tt.wantErr) || x.Hint == "" {
					t.Errorf("Explain = %+v, want a usage error containing %q, with a hint", x, tt.wantErr)
				}
				return
			}
			if err != nil || len(addrs) != 1 || addrs[0].String() != tt.want {
				t.Errorf("Resolve(%q, %d, %v) = %v, %v; want [%s]", tt.host, tt.family, tt.numeric, addrs, err, tt.want)
			}
		})
	}
}

// A real reset: the server sends a greeting, then, once the client has read
// it, aborts the connection with an RST (SO_LINGER 0).
func TestExplainStreamReset(t *testing.T) {
	ln := porttest.Listen(t)
	greeting := []byte("hello")
	reset := make(chan struct{})
	served := porttest.ServeOne(ln, func(c net.Conn) error {
		_, err := c.Write(greeting)
		<-reset
		if err == nil {
			err = c.(*net.TCPConn).SetLinger(0)
		}
		return err
	})

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	buf := make([]byte, len(greeting))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	close(reset)
	_, err = c.Read(buf)
	if serr := <-served; serr != nil {
		t.Fatal(serr)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the peer's RST: %v, want ECONNRESET", err)
	}

	peer := ln.Addr().String()
	x := explain(t, &StreamError{Peer: peer, Network: "tcp", Received: int64(len(greeting)), Err: err})
	if want := fmt.Sprintf("connection reset by peer %s after 5 bytes received", peer); x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if x.Usage || x.Hint == "" {
		t.Errorf("Explain = %+v, want no usage error and a hint", x)
	}
}

func TestExplainUDPPortUnreachable(t *testing.T) {
	host, port := closedPort(t, "udp")
	peer := net.JoinHostPort(host, strconv.Itoa(port))
	c, err := net.Dial("udp", peer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	// The kernel turns the ICMP port-unreachable into ECONNREFUSED on the
	// connected socket's next read.
	_, err = c.Read(make([]byte, 16))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read from %s: %v, want ECONNREFUSED", peer, err)
	}
	x := explain(t, &StreamError{Peer: peer, Network: "udp", Err: err})
	if want := fmt.Sprintf("nothing is listening on UDP port %d of %s (ICMP port unreachable)", port, host); x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	// Over TCP the same errno reads differently.
	x = explain(t, &StreamError{Peer: peer, Network: "tcp", Err: err})
	if want := "nothing is listening on " + peer + " (connection refused)"; x.Msg != want {
		t.Errorf("tcp: Msg = %q, want %q", x.Msg, want)
	}
}

func TestExplainStreamOther(t *testing.T) {
	x := explain(t, &StreamError{Peer: "192.0.2.1:80", Network: "tcp", Received: 12, Err: syscall.EPIPE})
	if want := "connection to 192.0.2.1:80 closed by peer while sending, after 12 bytes received"; x.Msg != want {
		t.Errorf("EPIPE: Msg = %q, want %q", x.Msg, want)
	}
	x = explain(t, &StreamError{Peer: "192.0.2.1:80", Network: "tcp", Received: 7, Err: os.ErrDeadlineExceeded})
	if want := "connection to 192.0.2.1:80 failed after 7 bytes received: timed out"; x.Msg != want {
		t.Errorf("timeout: Msg = %q, want %q", x.Msg, want)
	}
}

func TestExplainIdle(t *testing.T) {
	err := fmt.Errorf("session: %w", &IdleError{Peer: "127.0.0.1:4444", Idle: 5 * time.Second})
	x := explain(t, err)
	if want := "no data to or from 127.0.0.1:4444 for 5s, closing"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if x.Usage || !strings.Contains(x.Hint, "-w") {
		t.Errorf("Explain = %+v, want no usage error and a hint about -w", x)
	}
}

func TestExplainWrappedInputError(t *testing.T) {
	_, perr := ParsePort("70000", "tcp", false)
	x := explain(t, fmt.Errorf("connect: %w", perr))
	if !x.Usage || x.Msg != `bad port "70000": must be 1-65535` || x.Hint == "" {
		t.Errorf("Explain = %+v, want the InputError's message and hint, as a usage error", x)
	}
}

func TestExplainPlainError(t *testing.T) {
	x := explain(t, &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ENETUNREACH}})
	if x.Msg != "network unreachable" || x.Hint == "" {
		t.Errorf("Explain = %+v, want the errno in words and a hint", x)
	}
	x = explain(t, errors.New("something odd"))
	if x.Msg != "something odd" || x.Usage {
		t.Errorf("Explain = %+v, want the error text as is", x)
	}
}

// socketPath returns a path for a Unix socket in a fresh directory, short
// enough for sun_path (108 bytes on Linux, 104 on macOS).
func socketPath(t *testing.T) string {
	return filepath.Join(porttest.SocketDir(t), "s.sock")
}

func TestListenUnixInUseAndStale(t *testing.T) {
	ctx := context.Background()
	path := socketPath(t)
	opts := ListenOptions{Network: "unix"}

	first, err := Listen(ctx, Endpoint{Host: path}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	// A live listener holds the path.
	second, err := Listen(ctx, Endpoint{Host: path}, opts)
	if err == nil {
		second.Close()
		t.Fatal("second listener on a live socket: no error")
	}
	var le *ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listener on a live socket: got %v (%T), want a *ListenError for EADDRINUSE", err, err)
	}
	x := explain(t, err)
	if want := "cannot listen on " + path + ": address already in use"; x.Msg != want {
		t.Errorf("Msg = %q, want %q", x.Msg, want)
	}
	if runtime.GOOS == "linux" {
		if le.Holder == nil || le.Holder.PID != os.Getpid() {
			t.Errorf("Holder = %v, want this process (pid %d)", le.Holder, os.Getpid())
		}
		wantContains(t, "Hint", x.Hint, fmt.Sprintf("pid %d; stop it or choose another path", os.Getpid()))
	}

	// A listener that died without removing its file leaves a stale
	// socket, which the next listener replaces.
	first.(*unixListener).UnixListener.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket file: %v, %v", fi, err)
	}
	third, err := Listen(ctx, Endpoint{Host: path}, opts)
	if err != nil {
		t.Fatalf("listen over a stale socket file: %v", err)
	}
	// It is a working listener on that path.
	accepted := make(chan error, 1)
	go func() {
		c, err := third.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	third.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, the socket file is still there (%v)", err)
	}
}

func TestListenUnixOverRegularFile(t *testing.T) {
	path := socketPath(t)
	content := []byte("not a socket\n")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: "unix"})
	if err == nil {
		ln.Close()
		t.Fatal("listen over a regular file: no error")
	}
	var le *ListenError
	if !errors.As(err, &le) {
		t.Fatalf("listen over a regular file: got %v (%T), want a *ListenError", err, err)
	}
	explain(t, err)
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
		t.Errorf("the regular file was touched: %q, %v", got, err)
	}
}

func TestListenPacketUnixStale(t *testing.T) {
	ctx := context.Background()
	path := socketPath(t)
	opts := ListenOptions{Network: "unixgram"}
	first, err := ListenPacket(ctx, Endpoint{Host: path}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := ListenPacket(ctx, Endpoint{Host: path}, opts); err == nil {
		pc.Close()
		first.Close()
		t.Fatal("second datagram listener on a live socket: no error")
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second datagram listener on a live socket: %v, want EADDRINUSE", err)
	}
	// Close the socket but keep the file, as a killed process would.
	first.(*unlinkOnClose).UnixConn.Close()
	second, err := ListenPacket(ctx, Endpoint{Host: path}, opts)
	if err != nil {
		t.Fatalf("datagram listen over a stale socket file: %v", err)
	}
	second.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, the socket file is still there (%v)", err)
	}
}

func TestListenUnixMissingPath(t *testing.T) {
	_, err := Listen(context.Background(), Endpoint{}, ListenOptions{Network: "unix"})
	checkInputError(t, err)
}
