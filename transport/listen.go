package transport

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ListenOptions are the listen-side settings beyond the Endpoint.
type ListenOptions struct {
	Network string // "tcp", "udp", "unix" or "unixgram"
}

// Listen opens a stream listener (TCP or Unix) on e (a Unix socket's path
// is e.Host; port 0 picks a free port). An empty host listens on
// every address; a name listens on its first IPv4 address (IPv6 with -6),
// as netcat does. A Unix socket file in the way is replaced only when it
// is provably stale (see removeStale); the listener removes its own
// socket file when closed, and only if that file is still its own.
func Listen(ctx context.Context, e Endpoint, o ListenOptions) (net.Listener, error) {
	if isUnix(o.Network) {
		ln, file, err := listenUnix(e.Host, o.Network, "unix", net.Listen)
		if err != nil {
			return nil, err
		}
		ul := ln.(*net.UnixListener)
		ul.SetUnlinkOnClose(false) // by path, which may be another's socket by then
		if file == nil {
			return ul, nil
		}
		return &unixListener{UnixListener: ul, file: file}, nil
	}
	return listenInet(ctx, e, o, net.Listen)
}

// ListenPacket opens a datagram socket (UDP or Unix datagram) to receive on.
func ListenPacket(ctx context.Context, e Endpoint, o ListenOptions) (net.PacketConn, error) {
	if isUnix(o.Network) {
		pc, file, err := listenUnix(e.Host, o.Network, "unixgram", net.ListenPacket)
		if err != nil || file == nil {
			return pc, err
		}
		return &unlinkOnClose{UnixConn: pc.(*net.UnixConn), file: file}, nil
	}
	return listenInet(ctx, e, o, net.ListenPacket)
}

// listenUnix opens a Unix socket (socketType "unix" or "unixgram") on
// path with open, replacing a stale socket file (see bindUnix). file is
// the socket file it bound, nil for an abstract name.
func listenUnix[S any](path, network, socketType string, open func(network, address string) (S, error)) (s S, file *boundFile, err error) {
	file, err = bindUnix(path, network, socketType, func() (err error) {
		s, err = open(socketType, path)
		return err
	})
	return s, file, err
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

// listenAddr chooses the network and address a TCP or UDP listener binds.
// No host: every address, IPv4 and IPv6 on one dual-stack socket (one
// family with -4 or -6). A host binds the family of its address only, as
// nc, ncat and socat do: 0.0.0.0 is every IPv4 address and :: every IPv6
// one (IPV6_V6ONLY), never both.
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
	pick := addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			pick = a.Unmap()
			break
		}
	}
	network = o.Network + "6"
	if pick.Is4() {
		network = o.Network + "4"
	}
	return network, netip.AddrPortFrom(pick, uint16(e.Port)).String(), nil
}

// ListenScope says which clients a TCP or UDP listener bound to addr on e
// can reach when addr is a wildcard: "IPv4 only", "IPv6 only" or "IPv4 and
// IPv6" (no host and no -4/-6: one dual-stack socket); "" for any other
// address, which names itself.
func ListenScope(e Endpoint, addr net.Addr) string {
	ip := ipOf(addr)
	switch {
	case !ip.IsValid() || !ip.IsUnspecified():
		return ""
	case ip.Is4():
		return "IPv4 only"
	case e.Host == "" && e.Family == 0:
		return "IPv4 and IPv6"
	}
	return "IPv6 only"
}

func newListenError(network, addr string, port int, err error) *ListenError {
	le := &ListenError{Network: network, Addr: addr, Port: port, Err: err}
	if errors.Is(err, syscall.EADDRINUSE) {
		le.Holder = FindPortHolder(network, port)
	}
	return le
}

// bindUnix runs bind for a Unix socket path and, when the path is taken by
// a socket file that is provably stale, removes it and binds again. It
// returns the socket file it bound (nil for an abstract name).
func bindUnix(path, network, socketType string, bind func() error) (*boundFile, error) {
	if path == "" {
		return nil, badInput("e.g. sonde -lU /tmp/app.sock", "missing socket path")
	}
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	abstract := strings.HasPrefix(path, "@")
	err := bind()
	if err != nil && errors.Is(err, syscall.EADDRINUSE) && !abstract {
		if err = removeStale(path, socketType, err); err == nil {
			err = bind()
		}
	}
	if err != nil {
		return nil, wrapUnixListen(network, path, err)
	}
	if abstract {
		return nil, nil
	}
	return claimSocketFile(path), nil
}

func wrapUnixListen(network, path string, err error) error {
	le := &ListenError{Network: network, Addr: path, Err: err}
	if errors.Is(err, syscall.EADDRINUSE) {
		le.Holder = FindUnixHolder(path)
	}
	return le
}

// probeTimeout bounds the connect that tells a stale socket file from a
// live one; it guards against a hang, a live listener answers at once.
const probeTimeout = 2 * time.Second

// removeStale removes the socket file at path when it is provably stale,
// and otherwise returns why not: inUse (the bind's EADDRINUSE) when a
// process may listen on it. Ordinary files and other users' sockets are
// never touched. /proc/net/unix (Linux) can only prove a socket live: it
// lists the paths of this network namespace's sockets as they were bound,
// so a relative, symlinked or other-namespace path does not match. Then a
// connect decides: only a refused one proves the file stale. It is the
// last resort, since a live listener accepts it as a client (closed at
// once). The file removed is the one checked (same device, inode, owner),
// reached through its directory's descriptor.
func removeStale(path, socketType string, inUse error) error {
	dir, err := openSocketDir(path)
	if err != nil {
		return inUse
	}
	defer dir.close()
	st, err := dir.stat()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // gone meanwhile: bind again
	case err != nil:
		return inUse
	case !st.isSocket():
		return errNotSocketFile
	case unixPathBound(path):
		return inUse
	}
	if uid, known := st.owner(); known && uid != os.Geteuid() {
		return &ForeignSocketError{UID: uid}
	}
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.Dial(socketType, path)
	if err == nil {
		c.Close()
		return inUse
	}
	if !isConnRefused(err) {
		return inUse
	}
	if err := dir.unlinkIfSame(st); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return inUse
	}
	return nil
}

// errNotSocketFile: a Unix listener's path is taken by an ordinary file,
// which sonde never removes.
var errNotSocketFile = errors.New("a file that is not a socket is in the way")

// errSwapped: the socket file changed between sonde's check and its removal.
var errSwapped = errors.New("the socket file was replaced")

// ForeignSocketError: a Unix listener's path is taken by a socket file of
// another user, which sonde never removes, stale or not.
type ForeignSocketError struct{ UID int }

func (e *ForeignSocketError) Error() string {
	return "a socket file of " + userName(e.UID) + " is in the way"
}

// userName names a user as "nobody (uid 65534)", or "uid 65534" when the
// account is unknown.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return "user " + u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}

// boundFile is the socket file a listener bound, held through its
// directory, so that the listener removes it at exit only while it is
// still that file: a later listener's socket on the same path is left.
type boundFile struct {
	once sync.Once
	dir  *socketDir
	st   socketStat
}

// claimSocketFile records the socket file just bound at path; nil (the
// file is then left at exit) when it cannot be looked at.
func claimSocketFile(path string) *boundFile {
	dir, err := openSocketDir(path)
	if err != nil {
		return nil
	}
	st, err := dir.stat()
	if err != nil || !st.isSocket() {
		dir.close()
		return nil
	}
	return &boundFile{dir: dir, st: st}
}

func (b *boundFile) remove() {
	if b == nil {
		return
	}
	b.once.Do(func() {
		b.dir.unlinkIfSame(b.st)
		b.dir.close()
	})
}

// closeAndRemove closes the socket bound to the file, then removes the
// file if it is still the socket's.
func (b *boundFile) closeAndRemove(sock io.Closer) error {
	err := sock.Close()
	b.remove()
	return err
}

// unixListener is a Unix stream listener that removes its socket file
// when closed, if the file is still its own.
type unixListener struct {
	*net.UnixListener
	file *boundFile
}

func (l *unixListener) Close() error { return l.file.closeAndRemove(l.UnixListener) }

// unlinkOnClose is a Unix datagram socket that removes its socket file
// when closed, if the file is still its own: a listener's, or the
// temporary one a client binds where replies need an address to reach
// it. It embeds the *net.UnixConn itself, not a net.PacketConn, so that
// its ReadMsgUnix (which tells a truncated datagram) shows.
type unlinkOnClose struct {
	*net.UnixConn
	file *boundFile
}

func (c *unlinkOnClose) Close() error { return c.file.closeAndRemove(c.UnixConn) }

// ipOf is the IP address of a TCP or UDP address, unmapped (an IPv4
// address is never ::ffff:a.b.c.d); invalid for other addresses.
func ipOf(addr net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	}
	return ip.Unmap()
}
