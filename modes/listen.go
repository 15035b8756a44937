package modes

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// Listen runs listen mode: wait for one client, stop listening,
// then pipe stdin/stdout through it. With -k it serves clients concurrently
// until interrupted (see serveKeep).
func Listen(ctx context.Context, o *Options) error {
	if err := checkStdin(o); err != nil {
		return err
	}
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
	return endSession(o, &st, err)
}

// acceptOne waits for the one client a plain listener serves. A client
// refused by --allow/--deny, or that fails the TLS handshake, does not
// count: sonde reports it and goes on waiting, so a stray probe cannot
// end the listener. With TLS it may close ln.
func acceptOne(ctx context.Context, ln net.Listener, o *Options) (net.Conn, error) {
	if o.TLSServer != nil {
		return acceptFirstTLS(ctx, ln, o)
	}
	return acceptPermitted(ctx, ln, o)
}

// acceptPermitted accepts the next client that --allow/--deny/--allow-uid
// let through; the others are reported with -v and closed.
func acceptPermitted(ctx context.Context, ln net.Listener, o *Options) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
			return nil, err
		}
		if ok, why := o.Access.PermitsConn(conn); !ok {
			turnAway(o.UI, conn, why)
			continue // a refused client does not count: still listening
		}
		o.UI.Verbosef(1, "accepted %s", clientName(conn))
		return conn, nil
	}
}

// maxPendingHandshakes bounds the TLS handshakes a plain TLS listener runs
// at once while it waits for its client; clients beyond wait in the
// kernel's backlog until one ends.
const maxPendingHandshakes = 16

// acceptFirstTLS runs the TLS handshakes of the clients that come
// concurrently and hands over the first that completes one: a client that
// connects and stays silent must not hold the listener until its
// handshake times out. The others are closed, and ln with them: a plain
// listener serves one client.
func acceptFirstTLS(ctx context.Context, ln net.Listener, o *Options) (net.Conn, error) {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := make(chan net.Conn, 1)
	slots := make(chan struct{}, maxPendingHandshakes)
	var handshakes sync.WaitGroup
	handshake := func(conn net.Conn) {
		defer handshakes.Done()
		defer func() { <-slots }()
		tc, err := serverTLS(hctx, conn, &o.Server, o.Timeout)
		if err != nil {
			if hctx.Err() == nil {
				o.UI.Warnf("%s; still listening", transport.Explain(err).Msg)
			}
			return
		}
		select {
		case first <- tc:
			cancel() // the others lose
		default:
			tc.Close()
		}
	}
	acceptDone := make(chan error, 1)
	go func() {
		acceptDone <- func() error {
			for {
				conn, err := acceptPermitted(ctx, ln, o)
				if err != nil {
					return err
				}
				select {
				case slots <- struct{}{}:
				case <-hctx.Done():
					conn.Close()
					return nil
				}
				handshakes.Add(1)
				go handshake(conn)
			}
		}()
	}()
	var (
		conn net.Conn
		err  error
	)
	select {
	case conn = <-first:
		ln.Close() // ends the accept loop
		<-acceptDone
	case err = <-acceptDone:
	}
	cancel()
	handshakes.Wait()
	if conn == nil {
		select {
		case conn = <-first: // won just as the accept loop ended
			err = nil
		default:
		}
	}
	if cause := context.Cause(ctx); cause != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, cause
	}
	return conn, err
}
