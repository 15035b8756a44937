//go:build unix

package modes

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// TestUnixDatagramsWhole: a Unix datagram larger than 64 KiB (which Linux
// allows: up to the sender's send buffer) reaches stdout whole, and one
// larger than sonde's buffer is reported on stderr instead of being cut
// without a word. sonde once read Unix datagrams into 64 KiB and lost the
// end of a 150,000-byte one silently.
func TestUnixDatagramsWhole(t *testing.T) {
	path := filepath.Join(porttest.SocketDir(t), "s")
	var stdout, stderr proctest.Buffer
	o := &Options{Server: Server{Network: "unixgram", Listen: transport.Endpoint{Host: path}, UI: ui.New(&stderr, 0)},
		NoStdin: true, Stdout: &stdout}
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	_, stop := startServer(t, "unix datagram listener", ready, func(ctx context.Context) error { return Listen(ctx, o) })

	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetWriteBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("b"), 150000)
	huge := bytes.Repeat([]byte("h"), datagramBuffer("unixgram")+1000)
	for _, d := range [][]byte{big, huge} {
		if _, err := c.Write(d); err != nil {
			t.Skipf("this system's send buffer does not take a %d-byte Unix datagram (%v): nothing to test", len(d), err)
		}
	}
	want := len(big) + datagramBuffer("unixgram")
	deadline := time.Now().Add(30 * time.Second)
	for stdout.Len() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	got := stdout.Bytes()
	if len(got) != want || !bytes.Equal(got[:len(big)], big) {
		t.Errorf("stdout has %d bytes, want the %d-byte datagram whole and the first %d bytes of the larger one", len(got), len(big), datagramBuffer("unixgram"))
	}
	if !strings.Contains(stderr.String(), "was larger than 262144 bytes: only its first 262144 bytes were received") {
		t.Errorf("the cut datagram should be reported; stderr:\n%s", stderr.String())
	}
}
