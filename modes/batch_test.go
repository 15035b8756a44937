package modes

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// mixedSizes are datagram sizes from 1 byte to the largest UDP payload,
// small and large interleaved, about 110 KB in all: they fit the default
// receive buffer of a loopback socket whatever the system grants.
var mixedSizes = []int{1, maxDatagram, 2, 1400, 3, 8192, 1401, 512, 30000, 7, 1399, 100}

// sizedDatagram is a datagram of size bytes that tells its index.
func sizedDatagram(i, size int) []byte {
	p := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	copy(p, fmt.Sprint(i))
	return p
}

// udpPair is a socket bound on 127.0.0.1 port 0 and a client connected to it.
func udpPair(t *testing.T) (server, client *net.UDPConn) {
	t.Helper()
	server = udpSender(t, "127.0.0.1")
	client, err := net.DialUDP("udp", nil, server.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return server, client
}

// Datagrams of every size, already queued together, are read with their
// boundaries, senders and order kept; on Linux one read takes them all.
func TestBatchReaderKeepsBoundaries(t *testing.T) {
	server, client := udpPair(t)
	server.SetReadBuffer(1 << 20)
	var want [][]byte
	for i, size := range mixedSizes {
		p := sizedDatagram(i, size)
		want = append(want, p)
		if _, err := client.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	r := newBatchReader(server, datagramBuffer("udp"))
	server.SetReadDeadline(time.Now().Add(10 * time.Second)) // against a hang
	var reads int
	for got := 0; got < len(want); reads++ {
		ds, err := r.read()
		if err != nil {
			t.Fatalf("after %d datagrams: %v", got, err)
		}
		for _, d := range ds {
			if !bytes.Equal(d.p, want[got]) {
				t.Fatalf("datagram %d: got %d bytes starting %q, want %d bytes starting %q", got, len(d.p), d.p[:min(len(d.p), 8)], len(want[got]), want[got][:min(len(want[got]), 8)])
			}
			if d.truncated || d.from.String() != client.LocalAddr().String() {
				t.Fatalf("datagram %d: truncated %v, from %v, want whole from %v", got, d.truncated, d.from, client.LocalAddr())
			}
			got++
		}
	}
	if runtime.GOOS == "linux" && reads != 1 {
		t.Errorf("%d queued datagrams took %d reads, want 1 (recvmmsg)", len(want), reads)
	}
}

// paused is stdin for sendReadAhead: it gives one chunk per read, then EOF;
// the read after the last chunk (by then that chunk is queued) closes
// allRead.
type paused struct {
	chunks  [][]byte
	allRead chan struct{}
}

func (p *paused) Read(b []byte) (int, error) {
	if len(p.chunks) == 0 {
		close(p.allRead)
		return 0, io.EOF
	}
	n := copy(b, p.chunks[0])
	p.chunks = p.chunks[1:]
	return n, nil
}

// Each stdin read becomes one datagram, in order, even when many reads of
// different sizes wait and go out with one send: here the first send is
// held until stdin is read to its end, so the second takes all the rest.
func TestSendReadAheadKeepsBoundaries(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	server, client := udpPair(t)
	server.SetReadBuffer(1 << 20)
	var chunks [][]byte
	for i := range 3 {
		for j, size := range mixedSizes {
			chunks = append(chunks, sizedDatagram(i*len(mixedSizes)+j, size))
		}
	}
	stdin := &paused{chunks: append([][]byte(nil), chunks...), allRead: make(chan struct{})}
	w := newBatchWriter(client)
	var calls []int
	send := func(ps [][]byte) (int, error) {
		if len(calls) == 0 {
			<-stdin.allRead
		}
		calls = append(calls, len(ps))
		return w.write(ps, nil)
	}
	received := make(chan error, 1)
	go func() {
		buf := make([]byte, maxDatagram+1)
		server.SetReadDeadline(time.Now().Add(10 * time.Second)) // against a hang
		for i, want := range chunks {
			n, err := server.Read(buf)
			if err != nil {
				received <- fmt.Errorf("datagram %d: %v", i, err)
				return
			}
			if !bytes.Equal(buf[:n], want) {
				received <- fmt.Errorf("datagram %d: got %d bytes starting %q, want %d bytes starting %q", i, n, buf[:min(n, 8)], len(want), want[:8])
				return
			}
		}
		received <- nil
	}()
	if err := sendReadAhead(stdin, false, send); err != nil {
		t.Fatal(err)
	}
	if err := <-received; err != nil {
		t.Fatal(err)
	}
	// The first send may have taken one read or, if the reader got there
	// first, all of them: either way the reads waiting behind it go out
	// together, in at most two sends.
	total, most := 0, 0
	for _, n := range calls {
		total, most = total+n, max(most, n)
	}
	if len(calls) > 2 || total != len(chunks) || most < 2 {
		t.Errorf("sends of %v datagrams, want at most 2 sends of %d in all: what was read at first, then every read waiting", calls, len(chunks))
	}
}

// stdout gets a batch in one write only where nobody can tell: a pipe, a
// file, /dev/null; never a socket, which may keep each write's boundary.
func TestByteStream(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	server := udpSender(t, "127.0.0.1")
	sock, err := server.File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"pipe", w, true},
		{"file", file, true},
		{os.DevNull, devNull, true},
		{"socket", sock, false},
		{"buffer", new(bytes.Buffer), false},
	} {
		if got := byteStream(tc.w); got != tc.want {
			t.Errorf("byteStream(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
