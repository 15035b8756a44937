package modes

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// Listen runs listen mode: wait for one client, stop listening,
// then pipe stdin/stdout through it. With -k it serves clients concurrently
// until interrupted (see serveKeep).
func Listen(ctx context.Context, o *Options) error {
	ready := func(addr net.Addr) error { announce(&o.Server, addr); return nil }
	return serveOn(ctx, &o.Server, ready,
		func(pc net.PacketConn) error { return runDatagramListen(ctx, pc, o) },
		func(ln net.Listener) error { return listenStream(ctx, ln, o) })
}

// listenStream serves the clients of a stream listener: one, or with -k
// as many as come.
func listenStream(ctx context.Context, ln net.Listener, o *Options) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	if o.Keep {
		return serveKeep(ctx, ln, o)
	}

	waiting := time.Now()
	conn, err := acceptOne(ctx, ln, o)
	if err != nil {
		if isInterrupted(err) { // Ctrl-C before any client: -v still sums up
			o.UI.Verbosef(1, "%s", (&stats{started: waiting}).summary())
		}
		return err
	}
	ln.Close() // one client: stop listening (and remove a Unix socket file)
	defer conn.Close()

	var hex *transport.HexStream
	if o.Hex != nil {
		hex = o.Hex.Stream(1, false, fmt.Sprintf("accepted %s on %s", clientName(conn), conn.LocalAddr()))
	}
	st := stats{started: time.Now()}
	st.sent, st.received, err = runSession(ctx, conn, o, hex)
	o.UI.Verbosef(1, "%s", st.summary())
	return err
}

// acceptOne waits for the one client a plain listener serves. A client
// refused by --allow/--deny, or that fails the TLS handshake, does not
// count: sonde reports it and goes on waiting, so a stray probe cannot
// end the listener.
func acceptOne(ctx context.Context, ln net.Listener, o *Options) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
			return nil, err
		}
		if ok, why := o.Access.PermitsConn(conn); !ok {
			o.UI.Verbosef(1, "refused %s: %s", clientName(conn), why)
			conn.Close()
			continue // a refused client does not count: still listening
		}
		o.UI.Verbosef(1, "accepted %s", clientName(conn))
		tc, err := serverTLS(ctx, conn, &o.Server, o.Timeout)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
			o.UI.Warnf("%s; still listening", transport.Explain(err).Msg)
			continue
		}
		return tc, nil
	}
}
