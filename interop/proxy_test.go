//go:build linux

package interop

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
)

// target is the host the proxies connect to: a loopback listener that
// sends download to each client and closes, or, when download is nil,
// reads what the client sends until EOF and reports it on the returned
// channel.
func target(t *testing.T, download []byte) (port int, uploads <-chan []byte) {
	t.Helper()
	got := make(chan []byte, 16)
	addr := porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(procDeadline))
		if download != nil {
			c.Write(download)
			return
		}
		b, _ := io.ReadAll(c)
		got <- b
	})
	return int(addr.Port()), got
}

// ncatHTTPProxy starts `ncat -l -k --proxy-type http` (optionally
// requiring credentials) and returns its port.
func ncatHTTPProxy(t *testing.T, auth string) int {
	t.Helper()
	requirePeer(t, "ncat")
	_, port := startPeerListener(t, "tcp4", func(port int) *proc {
		args := []string{"-l", "-k", "--proxy-type", "http", "127.0.0.1", strconv.Itoa(port)}
		if auth != "" {
			args = append(args, "--proxy-auth", auth)
		}
		return start(t, stdio{}, "ncat", args...)
	})
	return port
}

// TestProxyNcatHTTP: sonde -X connect through Ncat's HTTP proxy carries
// 4 MiB each way, byte for byte, with an address or a name (which Ncat
// resolves), with and without credentials. Ncat's proxy does not pass a
// half-close on (it closes both sides at the first EOF), so the download
// runs with -d and the upload is checked where it lands.
func TestProxyNcatHTTP(t *testing.T) {
	t.Parallel()
	download := randomPayload(t, 4<<20)
	upload := randomPayload(t, 4<<20)
	tests := []struct {
		name, host, auth string
		args             []string
	}{
		{"address", "127.0.0.1", "", nil},
		{"name", "localhost", "", nil},
		{"basic-auth", "127.0.0.1", "alice:s3cret", []string{"--proxy-auth", "alice:s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"-download", func(t *testing.T) {
			t.Parallel()
			port, _ := target(t, download)
			proxy := net.JoinHostPort("127.0.0.1", strconv.Itoa(ncatHTTPProxy(t, tt.auth)))
			out := newOutFile(t)
			args := append([]string{"-d", "-X", "connect", "-x", proxy}, tt.args...)
			s := sonde(t, stdio{Stdout: out}, append(args, tt.host, strconv.Itoa(port))...)
			s.ExpectExit(t, 0)
			sameBytes(t, "sonde stdout (sent by the target through ncat's proxy)", out.Contents(t), download)
		})
		t.Run(tt.name+"-upload", func(t *testing.T) {
			t.Parallel()
			port, uploads := target(t, nil)
			proxy := net.JoinHostPort("127.0.0.1", strconv.Itoa(ncatHTTPProxy(t, tt.auth)))
			args := append([]string{"-X", "connect", "-x", proxy}, tt.args...)
			s := sonde(t, stdio{Stdin: dataFile(t, upload)}, append(args, tt.host, strconv.Itoa(port))...)
			s.ExpectExit(t, 0)
			select {
			case got := <-uploads:
				sameBytes(t, "what the target received through ncat's proxy", got, upload)
			case <-time.After(procDeadline):
				t.Fatal("the target never saw the upload end")
			}
		})
	}
}

// TestProxyNcatHTTPRefusals: what Ncat's proxy answers is what sonde
// says: 407 without credentials or with wrong ones (with the hint that
// fits), and its answer for a target that refuses; exit 1, nothing on
// stdout.
func TestProxyNcatHTTPRefusals(t *testing.T) {
	t.Parallel()
	port, _ := target(t, nil)
	open := strconv.Itoa(port)
	closed := strconv.Itoa(freePort(t, "tcp4"))
	tests := []struct {
		name, auth string
		args       []string
		msg, hint  string
	}{
		{"no-credentials", "alice:s3cret", []string{"127.0.0.1", open},
			"proxy refused: 407 Proxy Authentication Required", "give USER:PASS with --proxy-auth-file FILE, SONDE_PROXY_AUTH or --proxy-auth"},
		{"wrong-password", "alice:s3cret", []string{"--proxy-auth", "alice:nope", "127.0.0.1", open},
			"proxy refused: 407 Proxy Authentication Required", "rejected the user name or password"},
		// Ncat answers 504 when the target refuses.
		{"target-refuses", "", []string{"127.0.0.1", closed},
			"proxy refused: 504", "could not connect to 127.0.0.1:" + closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy := net.JoinHostPort("127.0.0.1", strconv.Itoa(ncatHTTPProxy(t, tt.auth)))
			s := sonde(t, stdio{Stdin: strings.NewReader("never sent\n")},
				append([]string{"-X", "connect", "-x", proxy}, tt.args...)...)
			s.ExpectExit(t, 1)
			if out := s.Stdout.String(); out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			stderr := s.Stderr.String()
			wantMsg := "sonde: cannot connect to 127.0.0.1:" + tt.args[len(tt.args)-1] + " through proxy " + proxy + ": " + tt.msg
			if !strings.Contains(stderr, wantMsg) {
				t.Errorf("stderr lacks %q:\n%s", wantMsg, stderr)
			}
			if !strings.Contains(stderr, "sonde: hint: ") || !strings.Contains(stderr, tt.hint) {
				t.Errorf("stderr lacks the hint %q:\n%s", tt.hint, stderr)
			}
		})
	}
}
