package transport

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ListenOptions are the listen-side settings beyond the Endpoint.
type ListenOptions struct {
	Network string // "tcp", "udp", "unix" or "unixgram"
}

// Listen opens a stream listener (TCP or Unix) on e (a Unix socket's path
// is e.Host; port 0 picks a free port). An empty host listens on
// every address; a name listens on its first IPv4 address (IPv6 with -6),
// as netcat does. A stale Unix socket file left by a dead listener is
// replaced; a live one is reported as in use.
func Listen(ctx context.Context, e Endpoint, o ListenOptions) (net.Listener, error) {
	if isUnix(o.Network) {
		return listenUnix(e.Host, o.Network, "unix", net.Listen)
	}
	return listenInet(ctx, e, o, net.Listen)
}

// ListenPacket opens a datagram socket (UDP or Unix datagram) to receive on.
func ListenPacket(ctx context.Context, e Endpoint, o ListenOptions) (net.PacketConn, error) {
	if isUnix(o.Network) {
		pc, err := listenUnix(e.Host, o.Network, "unixgram", net.ListenPacket)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(e.Host, "@") {
			return pc, nil
		}
		return &unlinkOnClose{UnixConn: pc.(*net.UnixConn), path: e.Host}, nil
	}
	return listenInet(ctx, e, o, net.ListenPacket)
}

// listenUnix opens a Unix socket (socketType "unix" or "unixgram") on
// path with open, replacing a stale socket file (see bindUnix).
func listenUnix[S any](path, network, socketType string, open func(network, address string) (S, error)) (S, error) {
	var s S
	err := bindUnix(path, network, func() (err error) {
		s, err = open(socketType, path)
		return err
	})
	return s, err
}

// listenInet opens a TCP or UDP socket with open on the address e names,
// and words a failure as a *ListenError.
func listenInet[S any](ctx context.Context, e Endpoint, o ListenOptions, open func(network, address string) (S, error)) (S, error) {
	var zero S
	network, addr, err := listenAddr(ctx, e, o)
	if err != nil {
		return zero, err
	}
	s, err := open(network, addr)
	if err != nil {
		return zero, newListenError(o.Network, addr, e.Port, err)
	}
	return s, nil
}

func listenAddr(ctx context.Context, e Endpoint, o ListenOptions) (network, addr string, err error) {
	network = o.Network
	if e.Family != 0 {
		network += strconv.Itoa(e.Family)
	}
	if e.Host == "" {
		return network, e.HostPort(), nil
	}
	addrs, err := Resolve(ctx, e.Host, e.Family, e.Numeric)
	if err != nil {
		return "", "", err
	}
	pick := addrs[0]
	for _, a := range addrs {
		if a.Is4() {
			pick = a
			break
		}
	}
	return network, netip.AddrPortFrom(pick, uint16(e.Port)).String(), nil
}

func newListenError(network, addr string, port int, err error) *ListenError {
	le := &ListenError{Network: network, Addr: addr, Port: port, Err: err}
	if errors.Is(err, syscall.EADDRINUSE) {
		le.Holder = FindPortHolder(network, port)
	}
	return le
}

// bindUnix runs bind for a Unix socket path and, when the path is taken by
// a socket file nobody listens on any more, removes it and binds again.
func bindUnix(path, network string, bind func() error) error {
	if path == "" {
		return badInput("e.g. sonde -lU /tmp/app.sock", "missing socket path")
	}
	if err := checkSocketPath(path); err != nil {
		return err
	}
	err := bind()
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || strings.HasPrefix(path, "@") {
		return wrapUnixListen(network, path, err)
	}
	if fi, serr := os.Lstat(path); serr == nil && fi.Mode()&fs.ModeSocket == 0 {
		return &ListenError{Network: network, Addr: path, Err: errNotSocketFile}
	}
	if !isStale(path, network) {
		return wrapUnixListen(network, path, err)
	}
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return wrapUnixListen(network, path, err)
	}
	return wrapUnixListen(network, path, bind())
}

func wrapUnixListen(network, path string, err error) error {
	if err == nil {
		return nil
	}
	le := &ListenError{Network: network, Addr: path, Err: err}
	if errors.Is(err, syscall.EADDRINUSE) {
		le.Holder = FindUnixHolder(path)
	}
	return le
}

// isStale tells whether path is a socket file that no process listens on:
// only then may sonde remove it. Ordinary files are never touched. Where
// the OS lists bound sockets (Linux), that list decides, because probing
// with a connect would be accepted by a live listener as its client.
func isStale(path, network string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSocket == 0 {
		return false
	}
	if bound, known := unixPathBound(path); known {
		return !bound
	}
	c, err := net.Dial(network, path)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// errNotSocketFile: a Unix listener's path is taken by an ordinary file,
// which sonde never removes.
var errNotSocketFile = errors.New("a file that is not a socket is in the way")

// unlinkOnClose is a Unix datagram socket that removes its socket file
// when closed: a listener's, or the temporary one a client binds where
// replies need an address to reach it. It embeds the *net.UnixConn itself, not a net.PacketConn,
// so that its ReadMsgUnix (which tells a truncated datagram) shows.
type unlinkOnClose struct {
	*net.UnixConn
	path string
}

func (c *unlinkOnClose) Close() error {
	err := c.UnixConn.Close()
	os.Remove(c.path)
	return err
}
