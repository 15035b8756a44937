package modes

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// gatedStdout holds the listener's first write to stdout until open is
// closed, so that the datagrams a test sends meanwhile wait together in
// the socket and the listener reads them as one batch. entered is closed
// when that first write begins. startDatagramListen points w at the
// listener's stdout buffer.
type gatedStdout struct {
	w             io.Writer
	entered, open chan struct{}
	first         bool
}

func newGatedStdout() *gatedStdout {
	return &gatedStdout{entered: make(chan struct{}), open: make(chan struct{}), first: true}
}

func (g *gatedStdout) Write(p []byte) (int, error) {
	if g.first { // only the receiving goroutine writes stdout
		g.first = false
		close(g.entered)
		<-g.open
	}
	return g.w.Write(p)
}

// holdFirst sends first to the listener and waits until the listener is
// stuck writing it, with the gate closed.
func (g *gatedStdout) holdFirst(t *testing.T, c net.PacketConn, to net.Addr, first []byte) {
	t.Helper()
	if _, err := c.WriteTo(first, to); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first write to stdout", func() bool {
		select {
		case <-g.entered:
			return true
		default:
			return false
		}
	})
}

// Inside one batch, the lock-on rule holds datagram by datagram: the
// first sender's datagrams of every size reach stdout whole and in order,
// the other sender's are reported and dropped.
func TestDatagramListenBatchLocksOn(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	gate := newGatedStdout()
	l := startDatagramListen(t, &Options{Server: Server{Network: "udp"}, NoStdin: true, Stdout: gate})
	first, second := udpSender(t, "127.0.0.1"), udpSender(t, "127.0.0.1")
	want := sizedDatagram(0, 5)
	gate.holdFirst(t, first, l.addr, want)
	for i, size := range mixedSizes {
		p := sizedDatagram(i+1, size)
		from := first
		if i%3 == 1 {
			from = second
		} else {
			want = append(want, p...)
		}
		if _, err := from.WriteTo(p, l.addr); err != nil {
			t.Fatal(err)
		}
	}
	close(gate.open)
	waitUntil(t, "the first sender's datagrams on stdout", func() bool { return l.stdout.Len() >= len(want) })
	if got := l.stdout.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("stdout has %d bytes, want the first sender's %d, whole and in order", len(got), len(want))
	}
	waitUntil(t, "the second sender to be ignored", func() bool {
		return strings.Contains(l.stderr.String(), "sonde: ignored a datagram from "+second.LocalAddr().String())
	})
}

// --replies N counts exactly N even when more came in the same batch: the
// ones after the Nth are not written, as they are not when they come one
// at a time (sonde has stopped reading by then).
func TestDatagramListenRepliesInsideBatch(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	gate := newGatedStdout()
	l := startDatagramListen(t, &Options{Server: Server{Network: "udp"}, NoStdin: true, Replies: 3, Stdout: gate})
	c := udpSender(t, "127.0.0.1")
	gate.holdFirst(t, c, l.addr, []byte("1\n"))
	for _, msg := range []string{"2\n", "3\n", "4\n", "5\n"} {
		send(t, c, l.addr, msg)
	}
	close(gate.open)
	if err := l.end(t); err != nil {
		t.Fatalf("the listener returned %v", err)
	}
	if got := l.stdout.String(); got != "1\n2\n3\n" {
		t.Errorf("stdout %q, want the first 3 datagrams", got)
	}
	if want := "sonde: sent 0 bytes, received 6 bytes in 3 datagrams\n"; !strings.Contains(l.stderr.String(), want) {
		t.Errorf("the summary should say %q; stderr:\n%s", want, l.stderr)
	}
}

// readAll collects what r gives until it has n bytes (or fails).
func readAll(r io.Reader, n int) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, n)
		k, _ := io.ReadFull(r, buf)
		got <- buf[:k]
	}()
	return got
}

// With stdout a pipe, where a batch of datagrams goes out in one write,
// a reader gets every byte once and in order: datagrams of every size
// from 1 to 65,507 bytes, sent back to back in two rounds.
func TestDatagramListenPipeStdout(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	l := startDatagramListen(t, &Options{Server: Server{Network: "udp"}, NoStdin: true, Stdout: w})
	c := udpSender(t, "127.0.0.1")
	for round := range 2 {
		var want []byte
		for i, size := range mixedSizes {
			p := sizedDatagram(round*len(mixedSizes)+i, size)
			want = append(want, p...)
			if _, err := c.WriteTo(p, l.addr); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case out := <-readAll(r, len(want)):
			if !bytes.Equal(out, want) {
				t.Fatalf("round %d: the pipe got %d bytes, want the %d of the datagrams in order", round, len(out), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the pipe did not get the %d bytes; stderr:\n%s", round, len(want), l.stderr)
		}
	}
	l.interrupt(t)
	w.Close()
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Errorf("the pipe got %d bytes more than the datagrams", len(rest))
	}
}

// interrupt ends the listener as Ctrl-C does and waits for it.
func (l *listener) interrupt(t *testing.T) {
	t.Helper()
	l.cancel(&Interrupted{Signal: "interrupt"})
	l.end(t)
}
