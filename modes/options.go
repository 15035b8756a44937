// Package modes implements sonde's modes (connect, listen, ...). A mode
// takes plain options and streams; it never parses a command line. It
// reports progress through a *ui.UI and returns errors for main to explain.
package modes

import (
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

	Stdin  io.Reader
	Stdout io.Writer
	UI     *ui.UI

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

// DefaultLinger is how long UDP connect keeps receiving after stdin ends.
const DefaultLinger = time.Second

// errStdoutClosed ends a session quietly: the reader of our stdout went
// away (sonde ... | head -c 10), which is success, as it is for cat.
var errStdoutClosed = errors.New("stdout closed")

// Interrupted is returned when a signal ended the session.
type Interrupted struct{ Signal string }

func (e *Interrupted) Error() string { return "interrupted by " + e.Signal }

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

func describeNetwork(network string) string {
	switch network {
	case "unixgram":
		return "unix datagram"
	case "unix":
		return "unix stream"
	}
	return network
}
