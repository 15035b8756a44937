package modes

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"
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
