//go:build linux

package interop

import (
	"strconv"
	"strings"
	"testing"
)

// TestRefusedClientIsReset: a client that a sonde server turns away
// (--deny here; --max-conns takes the same path) is reset, so its own
// tools fail instead of taking the close for an empty answer: ncat exits
// 1 saying the connection was reset, Python's socket raises
// ConnectionResetError (at connect or at the first read: on loopback the
// reset can beat connect's return). nc.openbsd is no judge: it treats a
// reset while reading as an end of file, and exits 0 or 1 depending on
// when the reset arrives.
func TestRefusedClientIsReset(t *testing.T) {
	t.Parallel()
	const pyClient = `
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
    data = s.recv(10)
except ConnectionResetError:
    print("reset")
    sys.exit(0)
print("no reset: read %r" % data)
sys.exit(1)
`
	servers := []struct {
		name string
		args []string
	}{
		{"listen", []string{"-l", "--deny", "127.0.0.1", "127.0.0.1", "0"}},
		{"listen-k", []string{"-lk", "--deny", "127.0.0.1", "127.0.0.1", "0"}},
		{"echo", []string{"echo", "--deny", "127.0.0.1", "127.0.0.1", "0"}},
		{"relay", []string{"relay", "--deny", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:9"}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := sonde(t, stdio{}, srv.args...)
			_, port := s.ListenAddr(t)
			t.Run("ncat", func(t *testing.T) {
				requirePeer(t, "ncat")
				// --recv-only: sending would draw a reset from a closed
				// socket, whichever way sonde closed it.
				p := start(t, stdio{}, "ncat", "--recv-only", "127.0.0.1", strconv.Itoa(port))
				p.ExpectExit(t, 1)
				if !strings.Contains(p.Stderr.String(), "reset by peer") {
					t.Errorf("ncat should say the connection was reset; stderr:\n%s", p.Stderr.String())
				}
			})
			t.Run("python", func(t *testing.T) {
				requirePeer(t, "python3")
				p := start(t, stdio{}, pythonPath(), "-c", pyClient, strconv.Itoa(port))
				p.ExpectExit(t, 0)
				if got := p.Stdout.String(); got != "reset\n" {
					t.Errorf("python client: %q, stderr:\n%s", got, p.Stderr.String())
				}
			})
			if s.Exited() {
				t.Errorf("sonde %s ended after refusing a client:\n%s", srv.name, s.Stderr.String())
			}
		})
	}
}
