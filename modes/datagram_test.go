package modes

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// listener is a datagram listener run in the background, with what it
// wrote to stdout and stderr.
type listener struct {
	addr           net.Addr
	stdout, stderr *proctest.Buffer
	done           chan error
	cancel         context.CancelCauseFunc
}

// startDatagramListen runs Listen with o (its streams filled in here) and
// returns once the socket is bound. The listener is interrupted at cleanup
// if the test has not seen it end.
func startDatagramListen(t *testing.T, o *Options) *listener {
	t.Helper()
	l := &listener{stdout: new(proctest.Buffer), stderr: new(proctest.Buffer), done: make(chan error, 1)}
	switch g := o.Stdout.(type) {
	case nil:
		o.Stdout = l.stdout
	case *gatedStdout:
		g.w = l.stdout
	}
	o.UI = ui.New(l.stderr, 1)
	if o.Listen.Host == "" {
		o.Listen = transport.Endpoint{Host: "127.0.0.1"}
	}
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancelCause(context.Background())
	l.cancel = cancel
	go func() { l.done <- Listen(ctx, o) }()
	t.Cleanup(func() {
		cancel(&Interrupted{Signal: "interrupt"})
		select {
		case <-l.done:
		case <-time.After(10 * time.Second):
			t.Errorf("the listener did not stop after cancel")
		}
	})
	select {
	case l.addr = <-ready:
	case err := <-l.done:
		t.Fatalf("the listener ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never became ready")
	}
	return l
}

// end waits for the listener to end by itself and returns its error.
func (l *listener) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.done:
		l.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("the listener did not end; stderr:\n%s", l.stderr)
		return nil
	}
}

// waitUntil polls until what says it holds (deadline only against a hang).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// udpSender is a client socket bound on ip, port 0.
func udpSender(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.PacketConn, to net.Addr, msg string) {
	t.Helper()
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
}

// receiveOne reads the datagram that must come to c.
func receiveOne(t *testing.T, c net.PacketConn, who string) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1024)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("%s got no datagram: %v", who, err)
	}
	return string(buf[:n])
}

// nothingQueued checks that nothing was sent to c. Called once the
// listener has ended: loopback and Unix datagrams are queued on the
// receiving socket by the send itself, so anything sent is there already.
func nothingQueued(t *testing.T, c net.PacketConn, who string) {
	t.Helper()
	c.SetReadDeadline(time.Now())
	buf := make([]byte, 1024)
	if n, _, err := c.ReadFrom(buf); err == nil {
		t.Errorf("%s was sent %q: stdin must go to the listener's peer alone", who, buf[:n])
	}
}

// A one-shot responder (-lu --replies 1 with stdin at EOF before anyone
// sends) answers every time, and its summary counts what it sent. sonde
// once ended the session as soon as the datagram came, before stdin was
// sent (about one run in ten got no reply), and read the sent count
// before the send added to it ("sent 0 bytes").
func TestDatagramListenOneShotAnswers(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	for i := range 30 {
		l := startDatagramListen(t, &Options{Server: Server{Network: "udp"}, Replies: 1, Stdin: strings.NewReader("reply\n")})
		c := udpSender(t, "127.0.0.1")
		send(t, c, l.addr, "hi\n")
		if got := receiveOne(t, c, "the client"); got != "reply\n" {
			t.Fatalf("run %d: the client got %q, want %q", i, got, "reply\n")
		}
		if err := l.end(t); err != nil {
			t.Fatalf("run %d: the listener returned %v", i, err)
		}
		if want := "sonde: sent 6 bytes, received 3 bytes in 1 datagram\n"; !strings.Contains(l.stderr.String(), want) {
			t.Fatalf("run %d: the summary should say %q; stderr:\n%s", i, want, l.stderr)
		}
		if got := l.stdout.String(); got != "hi\n" {
			t.Fatalf("run %d: stdout %q, want %q", i, got, "hi\n")
		}
	}
}

// A listener with --replies N whose session ends with fewer (-q after
// stdin, -w) fails, saying how many came.
func TestDatagramListenTooFewReplies(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"quit", Options{Replies: 2, QuitSet: true, Stdin: strings.NewReader("reply\n")}, "expected 2 replies, got 1"},
		{"idle", Options{Replies: 3, NoStdin: true, Timeout: 50 * time.Millisecond}, "expected 3 replies, got 1 (no data to or from 127.0.0.1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Network = "udp"
			l := startDatagramListen(t, &o)
			c := udpSender(t, "127.0.0.1")
			send(t, c, l.addr, "hi\n")
			if err := l.end(t); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("the listener returned %v, want %q", err, tc.want)
			}
		})
	}
}

// lockOnCase is one run of a listener that hears two senders: first
// (which sends before anyone else is heard) and second.
type lockOnCase struct {
	o             Options
	first, second *net.UDPConn
	// firstDealt and secondDealt appear on stdout or stderr once the
	// listener has dealt with each sender's datagram.
	firstDealt, secondDealt string
	stdout                  string
	secondAnswered          bool // stdin goes to second, not first
	stderr                  []string
}

// runLockOn: first sends, then second; only once the listener has dealt
// with both is stdin written, so it cannot go anywhere by chance.
func runLockOn(t *testing.T, tc lockOnCase) {
	t.Helper()
	stdin, w := io.Pipe()
	t.Cleanup(func() { w.Close() }) // before goleak looks, if the test failed early
	tc.o.Network, tc.o.Stdin, tc.o.QuitSet = "udp", stdin, true
	l := startDatagramListen(t, &tc.o)
	send(t, tc.first, l.addr, "from first\n")
	waitUntil(t, "the first datagram", func() bool { return strings.Contains(l.stdout.String()+l.stderr.String(), tc.firstDealt) })
	send(t, tc.second, l.addr, "from second\n")
	waitUntil(t, "the listener to deal with the second sender", func() bool { return strings.Contains(l.stdout.String()+l.stderr.String(), tc.secondDealt) })
	w.Write([]byte("reply\n"))
	w.Close()
	answered, other := tc.first, tc.second
	if tc.secondAnswered {
		answered, other = tc.second, tc.first
	}
	if got := receiveOne(t, answered, "the peer"); got != "reply\n" {
		t.Errorf("the peer got %q, want %q", got, "reply\n")
	}
	if err := l.end(t); err != nil {
		t.Errorf("the listener returned %v", err)
	}
	nothingQueued(t, other, "the other sender")
	if got := l.stdout.String(); got != tc.stdout {
		t.Errorf("stdout %q, want %q", got, tc.stdout)
	}
	for _, want := range tc.stderr {
		if !strings.Contains(l.stderr.String(), want) {
			t.Errorf("stderr should say %q; it is:\n%s", want, l.stderr)
		}
	}
}

// A UDP listener locks onto its first sender, as nc and ncat do: what
// others send is reported (-v) and dropped, and stdin goes to the peer
// alone. sonde once answered the most recent sender, so a datagram from
// anywhere took the rest of stdin, and wrote everyone's to stdout.
func TestDatagramListenLocksOntoFirstSender(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	first, second := udpSender(t, "127.0.0.1"), udpSender(t, "127.0.0.1")
	runLockOn(t, lockOnCase{first: first, second: second,
		firstDealt: "from first", secondDealt: "ignored a datagram",
		stdout: "from first\n",
		stderr: []string{
			"sonde: ignored a datagram from " + second.LocalAddr().String() + ": sonde hears only " + first.LocalAddr().String() + ", the first sender (-k hears every sender)\n",
			"sonde: sent 6 bytes, received 11 bytes in 1 datagram\n",
			"sonde: ignored 1 datagram from other senders\n",
		}})
}

// With -k the listener hears every sender and answers the latest, as
// nc.openbsd -luk does.
func TestDatagramListenKeepHearsEveryone(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	first, second := udpSender(t, "127.0.0.1"), udpSender(t, "127.0.0.1")
	runLockOn(t, lockOnCase{o: Options{Keep: true}, first: first, second: second,
		firstDealt: "from first", secondDealt: "from second",
		stdout:         "from first\nfrom second\n",
		secondAnswered: true,
		stderr:         []string{"sonde: datagram from " + second.LocalAddr().String() + "\n"},
	})
}

// --allow and --deny filter the senders of -lu, and a refused sender,
// even the first one, never becomes the peer.
func TestDatagramListenAccess(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	access, err := transport.NewAccessList(context.Background(), nil, []string{"127.0.0.2"}, true)
	if err != nil {
		t.Fatal(err)
	}
	denied, allowed := udpSender(t, "127.0.0.2"), udpSender(t, "127.0.0.1")
	// The refused sender goes first here: lockOnCase's first is the
	// denied one, and the allowed one, second, gets stdin.
	runLockOn(t, lockOnCase{o: Options{Server: Server{Access: access}}, first: denied, second: allowed,
		firstDealt: "refused", secondDealt: "from second",
		stdout:         "from second\n",
		secondAnswered: true,
		stderr: []string{
			"sonde: refused " + denied.LocalAddr().String() + ": matches --deny 127.0.0.2/32\n",
			"sonde: refused 1 datagram (--allow, --deny)\n",
		}})
}

// Unix datagrams follow the same rule for named senders; an unnamed
// socket cannot be answered, so it is heard until a peer is locked and
// never becomes it.
func TestUnixDatagramListenLocksOntoFirstNamedSender(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := porttest.SocketDir(t)
	named := func(name string) *net.UnixConn {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, name), Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	stdin, w := io.Pipe()
	t.Cleanup(func() { w.Close() }) // before goleak looks, if the test failed early
	l := startDatagramListen(t, &Options{Server: Server{Network: "unixgram", Listen: transport.Endpoint{Host: filepath.Join(dir, "s")}}, Stdin: stdin, QuitSet: true})
	unnamed, err := net.DialUnix("unixgram", nil, l.addr.(*net.UnixAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer unnamed.Close()
	peer, other := named("a"), named("b")
	unnamed.Write([]byte("unnamed 1\n"))
	send(t, peer, l.addr, "peer\n")
	send(t, other, l.addr, "other\n")
	waitUntil(t, "the other sender to be ignored", func() bool {
		return strings.Contains(l.stderr.String(), "ignored a datagram from "+other.LocalAddr().String())
	})
	unnamed.Write([]byte("unnamed 2\n"))
	waitUntil(t, "the unnamed sender to be ignored", func() bool { return strings.Contains(l.stderr.String(), "ignored a datagram from an unnamed") })
	w.Write([]byte("reply\n"))
	w.Close()
	if got := receiveOne(t, peer, "the peer"); got != "reply\n" {
		t.Errorf("the peer got %q, want %q", got, "reply\n")
	}
	if err := l.end(t); err != nil {
		t.Errorf("the listener returned %v", err)
	}
	nothingQueued(t, other, "the other named sender")
	if got, want := l.stdout.String(), "unnamed 1\npeer\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// lastName names each sender by its own address, whatever came before:
// the port, the address and its zone each make another sender.
func TestLastName(t *testing.T) {
	var names lastName
	for _, a := range []net.Addr{
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9001},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9001},
		&net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 9001, Zone: "lo"},
		&net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 9001, Zone: "eth0"},
		&net.UnixAddr{Name: "/tmp/s", Net: "unixgram"},
		&net.UnixAddr{Name: "", Net: "unixgram"},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9001},
	} {
		if got, want := names.of(a), addrName(a); got != want {
			t.Errorf("name of %v: %q, want %q", a, got, want)
		}
	}
}
