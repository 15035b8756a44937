package modes

import (
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Server is what the modes that listen (listen, echo, relay) share: the
// socket, which clients it serves, and how it reports.
type Server struct {
	Network string             // "tcp", "udp", "unix" or "unixgram" (relay: "tcp" or "udp")
	Listen  transport.Endpoint // the address to listen on; a Unix socket's path is its Host
	// Access, if set, decides which clients a listener serves (--allow,
	// --deny); the others are reset at once (datagrams: dropped).
	Access   *transport.AccessList
	MaxConns int // --max-conns: clients served at once; 0 for no limit
	// TLSServer, if set, wraps every accepted client (--tls; relay:
	// --tls-listen).
	TLSServer *tls.Config

	// Hex, if set, receives a dump of all traffic (--hex, --hex-file).
	Hex *transport.HexLog
	UI  *ui.UI
	// OnReady, if set, is called once the socket is ready: with the bound
	// address when listening, with the local address once connected.
	OnReady func(net.Addr)
}

// Options are the settings of connect and listen. Listen serves on the
// Server part; connect dials Target, and reads Network, Hex, UI and
// OnReady of the Server part.
type Options struct {
	Server
	Target     transport.Endpoint // connect: the host to connect to, and -s
	SourcePort int                // -p on connect

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
	Keep        bool // -k (MaxConns applies with it)

	Stdin  io.Reader
	Stdout io.Writer

	// TLSClient, if set, wraps a connect in TLS (--tls and its family).
	TLSClient *tls.Config

	// Proxy, if set, is -x, -X and --proxy-auth: connect goes through
	// that proxy (see transport.DialOptions).
	Proxy *transport.Proxy
	// Exec, if set, is the program of -e or -c: its stdin and stdout take
	// the place of sonde's, a fresh process for each session (exec.go).
	Exec *Exec

	// Progress shows bytes and rates each way (--progress); ProgressInPlace
	// redraws one line (stderr is a terminal) instead of printing lines.
	Progress        bool
	ProgressInPlace bool
}
