package modes

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/certtest"
)

// --max-conns on -lk counts a client from the moment it is accepted,
// before its TLS handshake or its program: of 16 clients that arrive at
// once and stay connected, 2 are served and the others refused. Served is
// what arrived: a line on stdout, or a line echoed by the client's cat.
func TestKeepMaxConnsHoldsUnderBurst(t *testing.T) {
	const clients, limit = 16, 2
	pki := certtest.New(t)
	cert := pki.Issue(t, certtest.Spec{File: "server", CN: "127.0.0.1", Names: certtest.Loopback,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)})
	roots := x509.NewCertPool()
	roots.AddCert(pki.CA)

	for _, tc := range []struct {
		name string
		o    func() *Options
		// serve runs one client's session on a connected c and tells
		// whether it was served; its line must reach stdout when tls.
		serve func(c net.Conn, line string) bool
		tls   bool
	}{
		{
			name: "--tls",
			tls:  true,
			o: func() *Options {
				return &Options{Keep: true, NoStdin: true, Server: Server{MaxConns: limit,
					TLSServer: &tls.Config{Certificates: []tls.Certificate{cert.TLS}}}}
			},
			serve: func(c net.Conn, line string) bool {
				tc := tls.Client(c, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
				if tc.Handshake() != nil {
					return false
				}
				_, err := tc.Write([]byte(line))
				return err == nil
			},
		},
		{
			name: "-e cat",
			o:    func() *Options { return &Options{Keep: true, Exec: shell("cat"), Server: Server{MaxConns: limit}} },
			serve: func(c net.Conn, line string) bool {
				if _, err := c.Write([]byte(line)); err != nil {
					return false
				}
				got, err := bufio.NewReader(c).ReadString('\n')
				return err == nil && got == line
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
			var stdout syncBuffer
			o := tc.o()
			o.Stdout = writerOnly{&stdout}
			if o.Exec != nil {
				o.Exec.Stderr = writerOnly{io.Discard}
			}
			addr, stderr := startListener(t, o)

			// Every client connects, then tries its session, and stays
			// connected until all of them have tried: the limit is held
			// by clients being served, never by clients that left.
			var (
				served  atomic.Int32
				tried   sync.WaitGroup
				release = make(chan struct{})
				done    sync.WaitGroup
			)
			tried.Add(clients)
			done.Add(clients)
			start := make(chan struct{})
			for i := range clients {
				go func() {
					defer done.Done()
					<-start
					c, err := net.DialTimeout("tcp", addr.String(), execGuard)
					if err == nil {
						defer c.Close()
						c.SetDeadline(time.Now().Add(execGuard))
						if tc.serve(c, fmt.Sprintf("client %d\n", i)) {
							served.Add(1)
						}
					}
					tried.Done()
					<-release
				}()
			}
			close(start)
			tried.Wait()
			if tc.tls { // a served client's line reaches stdout
				waitForLines(t, &stdout, int(served.Load()))
			}
			close(release)
			done.Wait()

			if n := served.Load(); n != limit {
				stderr.mu.Lock()
				defer stderr.mu.Unlock()
				t.Fatalf("%d of %d clients that came at once were served, want %d (--max-conns %d):\n%s",
					n, clients, limit, limit, stderr.String())
			}
			if tc.tls {
				stdout.mu.Lock()
				defer stdout.mu.Unlock()
				if n := strings.Count(stdout.String(), "\n"); n != limit {
					t.Errorf("%d lines reached stdout, want %d:\n%s", n, limit, stdout.String())
				}
			}
			waitForText(t, stderr, fmt.Sprintf("%d clients connected (--max-conns)\n", limit))
		})
	}
}

// waitForLines waits until b holds at least n lines.
func waitForLines(t *testing.T, b *syncBuffer, n int) {
	t.Helper()
	deadline := time.Now().Add(execGuard)
	for {
		b.mu.Lock()
		got := strings.Count(b.String(), "\n")
		b.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stdout has %d lines, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
