package modes

import (
	"crypto/tls"
	"io"
	"net"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Options are the settings of connect and listen; echo and relay embed
// them for what they share (the address, the family, TLS, --hex, the UI).
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
	// --deny); the others are reset at once (datagrams: dropped).
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
