// Package modes implements sonde's modes (connect, listen, ...). A mode
// takes plain options and streams; it never parses a command line. It
// reports progress through a *ui.UI and returns errors for main to explain.
package modes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Options are the settings shared by connect and listen (SPEC §3).
type Options struct {
	Network    string // "tcp", "udp", "unix" or "unixgram"
	Target     transport.Target
	Family     int    // -4 / -6
	Numeric    bool   // -n
	Source     string // -s (connect: local address; listen: address to listen on)
	SourcePort int    // -p on connect

	Timeout  time.Duration // -w: connect timeout and idle timeout; 0 for none
	Quit     time.Duration // -q: after stdin EOF, quit after this long
	QuitSet  bool          // whether -q was given
	NoStdin  bool          // -d or --recv-only: never read stdin
	SendOnly bool          // --send-only: discard what arrives
	CRLF     bool          // -C
	Interval time.Duration // -i: delay between lines sent
	// NoShutdown keeps the write side open after stdin EOF (--no-shutdown).
	NoShutdown bool
	// Interactive tells that stdin is a terminal: when the peer closes,
	// nothing typed later could reach it, so the session ends at once.
	Interactive bool
	Replies     int  // --replies: UDP, stop after this many datagrams
	Keep        bool // -k
	MaxConns    int  // --max-conns with -k; 0 for no limit
	// Access, if set, decides which clients a listener serves (--allow,
	// --deny); the others are closed at once (datagrams: dropped).
	Access *transport.AccessList

	Stdin  io.Reader
	Stdout io.Writer
	UI     *ui.UI

	// TLSClient, if set, wraps a connect in TLS; TLSServer wraps every
	// accepted client (--tls and its family).
	TLSClient *tls.Config
	TLSServer *tls.Config

	// Proxy, ProxyType and ProxyAuth are -x, -X and --proxy-auth: connect
	// goes through that proxy (see transport.DialOptions).
	Proxy, ProxyType, ProxyAuth string
	// Exec, if set, is the program of -e or -c: its stdin and stdout take
	// the place of sonde's, a fresh process for each session (exec.go).
	Exec *Exec

	// Hex, if set, receives a dump of all traffic (--hex, --hex-file).
	Hex *transport.HexLog
	// Progress shows bytes and rates each way (--progress); ProgressInPlace
	// redraws one line (stderr is a terminal) instead of printing lines.
	Progress        bool
	ProgressInPlace bool

	// OnReady, if set, is called once the socket is ready: with the bound
	// address when listening, with the local address once connected.
	OnReady func(net.Addr)
}

// A server reads each client into a buffer that starts at minReadBuffer
// and doubles whenever a read fills it, up to maxReadBuffer: a client that
// stays idle or sends little costs little (1000 idle clients hold 2 MiB,
// not 64), a busy one soon reads in large chunks.
const (
	minReadBuffer = 2 << 10
	maxReadBuffer = 64 << 10
)

// growBuffer returns the buffer for the next read after one of n bytes
// into buf.
func growBuffer(buf []byte, n int) []byte {
	if n == len(buf) && len(buf) < maxReadBuffer {
		return make([]byte, 2*len(buf))
	}
	return buf
}

// DefaultLinger is how long UDP connect keeps receiving after stdin ends.
const DefaultLinger = time.Second

// errStdoutClosed ends a session quietly: the reader of our stdout went
// away (sonde ... | head -c 10), which is success, as it is for cat.
var errStdoutClosed = errors.New("stdout closed")

// Interrupted is returned when a signal ended the session.
type Interrupted struct{ Signal string }

func (e *Interrupted) Error() string { return "interrupted by " + e.Signal }

// isInterrupted tells whether err is, or wraps, a signal's interruption.
func isInterrupted(err error) bool {
	var intr *Interrupted
	return errors.As(err, &intr)
}

// ExitStatus ends sonde with Code and no further message: the mode has
// already reported what happened (e.g. a scan that found no open port).
type ExitStatus struct{ Code int }

func (e *ExitStatus) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// stats are the byte counts of a session, reported with -v.
type stats struct {
	sent, received int64
	started        time.Time
}

func (s *stats) summary() string {
	return fmt.Sprintf("sent %s, received %s in %s", bytesString(s.sent), bytesString(s.received),
		time.Since(s.started).Round(time.Millisecond))
}

// plural words a count: "1 datagram", "2 datagrams".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func bytesString(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%d bytes (%.1f KiB)", n, float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes (%.2f GiB)", n, float64(n)/(1<<30))
}

// clientTLS runs the client handshake on conn when --tls is on, and
// reports the session with -v.
func clientTLS(ctx context.Context, conn net.Conn, o *Options) (net.Conn, error) {
	if o.TLSClient == nil {
		return conn, nil
	}
	tc := tls.Client(conn, o.TLSClient)
	if err := transport.Handshake(ctx, tc, o.Timeout); err != nil {
		conn.Close()
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState()) {
		o.UI.Verbosef(1, "%s", l)
	}
	return tc, nil
}

// serverTLS runs the server handshake on an accepted client when --tls is
// on. A client that does not finish it within -w (10s by default) is
// dropped.
func serverTLS(ctx context.Context, conn net.Conn, o *Options) (net.Conn, error) {
	if o.TLSServer == nil {
		return conn, nil
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	tc := tls.Server(conn, o.TLSServer)
	if err := transport.Handshake(ctx, tc, timeout); err != nil {
		conn.Close()
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState()) {
		o.UI.Verbosef(2, "%s", l)
	}
	return tc, nil
}

func describeNetwork(network string) string {
	switch network {
	case "unixgram":
		return "unix datagram"
	case "unix":
		return "unix stream"
	}
	return network
}
