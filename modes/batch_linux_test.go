package modes

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Under a flood that overflows the receive buffer (stdout is held while
// 10,000 datagrams arrive), the listener reports what the kernel dropped
// (Linux counts it), what it received plus what was dropped is every
// datagram sent, and what it received is on stdout whole and in order.
func TestDatagramListenFloodDropsReported(t *testing.T) {
	const flood, size = 10000, 1400
	gate := newGatedStdout()
	l := startDatagramListen(t, &Options{Server: Server{Network: "udp"}, NoStdin: true, Stdout: gate})
	c := udpSender(t, "127.0.0.1")
	gate.holdFirst(t, c, l.addr, sizedDatagram(0, size))
	sent := 1
	for i := 1; i < flood; i++ {
		if _, err := c.WriteTo(sizedDatagram(i, size), l.addr); err == nil {
			sent++
		}
	}
	close(gate.open)
	// A last datagram, sent until one shows up: everything sent before it
	// has then been read or dropped (one socket's queue keeps the order).
	var last string
	for attempt := 0; !bytes.HasSuffix(l.stdout.Bytes(), []byte(last)) || last == ""; attempt++ {
		if attempt == 100 {
			t.Fatalf("the listener never wrote the last datagram; stderr:\n%s", l.stderr)
		}
		last = fmt.Sprintf("last %d", attempt)
		if _, err := c.WriteTo([]byte(last), l.addr); err == nil {
			sent++
		}
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !bytes.HasSuffix(l.stdout.Bytes(), []byte(last)); {
			time.Sleep(5 * time.Millisecond) // polls; a miss only sends another
		}
	}
	l.interrupt(t)
	stderr := l.stderr.String()
	m := regexp.MustCompile(`sonde: sent 0 bytes, received .* in (\d+) datagrams`).FindStringSubmatch(stderr)
	d := regexp.MustCompile(`sonde: warning: the kernel dropped (\d+) datagrams: they arrived faster than sonde read them`).FindStringSubmatch(stderr)
	if m == nil || d == nil {
		t.Fatalf("stderr should count the datagrams received and those dropped:\n%s", stderr)
	}
	received, _ := strconv.Atoi(m[1])
	dropped, _ := strconv.Atoi(d[1])
	if received+dropped != sent {
		t.Errorf("%d datagrams sent, but sonde says it received %d and the kernel dropped %d", sent, received, dropped)
	}
	out, records, prev := l.stdout.Bytes(), 0, -1
	for len(out) >= size && !bytes.HasPrefix(out, []byte("last ")) {
		i, err := strconv.Atoi(string(regexp.MustCompile(`^\d+`).Find(out)))
		if err != nil || i <= prev || !bytes.Equal(out[:size], sizedDatagram(i, size)) {
			t.Fatalf("stdout record %d (after datagram %d) is not a whole datagram", records, prev)
		}
		out, records, prev = out[size:], records+1, i
	}
	lasts := regexp.MustCompile(`last \d+`).FindAll(out, -1)
	if records+len(lasts) != received || len(bytes.Join(lasts, nil)) != len(out) {
		t.Errorf("stdout holds %d datagrams and %d bytes more; sonde says it received %d", records+len(lasts), len(out)-len(bytes.Join(lasts, nil)), received)
	}
	t.Logf("FIGURES: %d sent, %d received, %d dropped and reported", sent, received, dropped)
}

// seqpacketStdin is a Unix seqpacket socket pair: stdin, whose reads each
// return one record, and the end that writes those records.
func seqpacketStdin(t *testing.T) (stdin, feed *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.SetsockoptInt(fds[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4<<20) // room for every record queued at once
	feed, stdin = os.NewFile(uintptr(fds[0]), "feed"), os.NewFile(uintptr(fds[1]), "stdin")
	t.Cleanup(func() { feed.Close(); stdin.Close() })
	return stdin, feed
}

// Where stdin is a seqpacket socket, one read takes every record waiting,
// each whole into a buffer of its own, sizes 1 to 65,507 mixed; a record of
// no bytes, or the other end closed, is the end of stdin. A pipe is read
// one read at a time.
func TestChunkReaderSeqpacket(t *testing.T) {
	stdin, feed := seqpacketStdin(t)
	var want [][]byte
	for i, size := range mixedSizes {
		want = append(want, sizedDatagram(i, size))
		if _, err := feed.Write(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	feed.Close()
	rd := newChunkReader(stdin)
	if rd.most() != batchSize {
		t.Fatalf("a seqpacket stdin is read %d records at a time, want %d", rd.most(), batchSize)
	}
	bufs := make([][]byte, batchSize)
	for i := range bufs {
		bufs[i] = make([]byte, maxDatagram)
	}
	ns, err := rd.read(bufs)
	if len(ns) != len(want) {
		t.Fatalf("one read took %d records (error %v), want all %d waiting", len(ns), err, len(want))
	}
	for i, n := range ns {
		if !bytes.Equal(bufs[i][:n], want[i]) {
			t.Fatalf("record %d: got %d bytes starting %q, want %d bytes starting %q", i, n, bufs[i][:min(n, 8)], len(want[i]), want[i][:8])
		}
	}
	if err == nil { // the end may come with the last record or on its own
		if ns, err = rd.read(bufs); len(ns) != 0 {
			t.Errorf("after the last record: %d more, want none", len(ns))
		}
	}
	if err != io.EOF {
		t.Errorf("after the last record: error %v, want EOF", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if rd := newChunkReader(r); rd.most() != 1 {
		t.Errorf("a pipe is read %d reads at a time, want 1", rd.most())
	}
}

// Through sendReadAhead, each record of a seqpacket stdin is one datagram,
// in order, however many one read took; --crlf applies to each.
func TestSendReadAheadSeqpacketStdin(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	for _, crlf := range []bool{false, true} {
		stdin, feed := seqpacketStdin(t)
		var want [][]byte
		go func() {
			defer feed.Close()
			for i := range 5 {
				for j, size := range mixedSizes {
					p := sizedDatagram(i*len(mixedSizes)+j, size)
					if j%3 == 0 {
						p[len(p)-1] = '\n'
					}
					if _, err := feed.Write(p); err != nil {
						return
					}
				}
			}
		}()
		for i := range 5 {
			for j, size := range mixedSizes {
				p := sizedDatagram(i*len(mixedSizes)+j, size)
				if j%3 == 0 {
					p[len(p)-1] = '\n'
					if crlf {
						p = append(p[:len(p)-1], '\r', '\n')
					}
				}
				want = append(want, p)
			}
		}
		var got [][]byte
		err := sendReadAhead(stdin, crlf, func(ps [][]byte) (int, error) {
			for _, p := range ps {
				got = append(got, bytes.Clone(p))
			}
			return len(ps), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("crlf %v: %d datagrams sent, want %d", crlf, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("crlf %v: datagram %d: got %d bytes starting %q, want %d bytes starting %q", crlf, i, len(got[i]), got[i][:min(len(got[i]), 8)], len(want[i]), want[i][:8])
			}
		}
	}
}
