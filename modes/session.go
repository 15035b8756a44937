package modes

// Every connect and listen session over a stream goes through runSession,
// whichever end (sonde's stdin and stdout, or a program's) it joins to
// the connection.

import (
	"context"
	"io"
	"net"
	"os"

	"github.com/sondeproject/sonde/transport"
)

// runSession runs one stream session on conn: between the connection and
// sonde's stdin and stdout, or a program's with -e / -c.
func runSession(ctx context.Context, conn net.Conn, o *Options, hex *transport.HexStream) (sent, received int64, err error) {
	if o.Exec != nil {
		return runExec(ctx, conn, o, hex)
	}
	return runStream(ctx, conn, o, hex)
}

// checkStdin refuses a stdin sonde cannot read (a directory: `sonde host
// 80 < /tmp`) before any socket is opened: found mid-session, its error
// would come after the peer's reaction, and be taken for the network's.
func checkStdin(o *Options) error {
	f, ok := o.Stdin.(*os.File)
	if o.NoStdin || o.Exec != nil || !ok {
		return nil
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return &transport.InputError{Msg: "standard input is a directory: sonde cannot send it",
			Hint: "redirect a file (< FILE), or give -d to send nothing"}
	}
	return nil
}

// serveOn opens the listening socket of a server mode (listen, echo,
// relay) on o.Listen: a PacketConn for the datagram networks, a Listener
// for the others. ready is told the bound address before anything is
// served, and may refuse it; the socket is closed once serving returns.
func serveOn(ctx context.Context, o *Server, ready func(net.Addr) error,
	datagrams func(net.PacketConn) error, streams func(net.Listener) error) error {
	lopts := transport.ListenOptions{Network: o.Network}
	var (
		sock  io.Closer
		addr  net.Addr
		serve func() error
	)
	if o.Network == "udp" || o.Network == "unixgram" {
		pc, err := transport.ListenPacket(ctx, o.Listen, lopts)
		if err != nil {
			return err
		}
		sock, addr, serve = pc, pc.LocalAddr(), func() error { return datagrams(pc) }
	} else {
		ln, err := transport.Listen(ctx, o.Listen, lopts)
		if err != nil {
			return err
		}
		sock, addr, serve = ln, ln.Addr(), func() error { return streams(ln) }
	}
	defer sock.Close()
	if err := ready(addr); err != nil {
		return err
	}
	return serve()
}
