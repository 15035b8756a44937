package modes

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// EchoOptions configure the echo server, which sends every byte (every
// datagram) back to where it came from, as RFC 862 describes.
type EchoOptions struct {
	Server                    // MaxConns: clients over this many are refused at once (reset)
	IdleTimeout time.Duration // a client silent this long is closed; 0: never
	Delay       time.Duration // wait this long before echoing each chunk or datagram
}

// echoTotals are what Ctrl-C reports.
type echoTotals struct {
	clients, refused, bytes atomic.Int64 // streams
	datagrams, senders      atomic.Int64 // datagrams
}

// Echo serves RFC 862 echo until interrupted. Every byte a TCP client
// sends comes back in order, including after the client half-closes: the
// server reads to the client's EOF, writes everything back, then closes.
// stdout stays empty and stdin is never read.
func Echo(ctx context.Context, o *EchoOptions) error {
	var totals echoTotals
	start := time.Now()
	ready := func(addr net.Addr) error { announce(&o.Server, addr); return nil }
	return serveOn(ctx, &o.Server, ready,
		func(pc net.PacketConn) error {
			err := echoDatagrams(ctx, pc, o, &totals)
			o.UI.Infof("echoed %s in %s from %s in %s", bytesString(totals.bytes.Load()),
				plural(totals.datagrams.Load(), "datagram"), plural(totals.senders.Load(), "sender"), roundDuration(time.Since(start)))
			return err
		},
		func(ln net.Listener) error {
			err := echoStreams(ctx, ln, o, &totals)
			o.UI.Infof("served %s (%d refused), echoed %s in %s", plural(totals.clients.Load(), "client"), totals.refused.Load(),
				bytesString(totals.bytes.Load()), roundDuration(time.Since(start)))
			return err
		})
}

func echoStreams(ctx context.Context, ln net.Listener, o *EchoOptions, totals *echoTotals) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		active = make(map[net.Conn]struct{})
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range active {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	var ids int64
	clients := newAcceptor(ln, o.UI)
	for {
		conn, err := clients.accept(ctx)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
			return err
		}
		mu.Lock()
		why := refusal(o.Access, conn, o.MaxConns, len(active), "client", "connected")
		if why == "" {
			active[conn] = struct{}{}
		}
		mu.Unlock()
		if why != "" {
			totals.refused.Add(1)
			turnAway(o.UI, conn, why)
			continue
		}
		ids++
		id := ids
		totals.clients.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(active, conn)
				mu.Unlock()
			}()
			echoClient(ctx, conn, id, o, totals)
		}()
	}
}

// echoClient echoes one connection. The buffer starts small, so that
// thousands of idle clients cost little, and grows while reads fill it.
func echoClient(ctx context.Context, conn net.Conn, id int64, o *EchoOptions, totals *echoTotals) {
	defer conn.Close()
	start := time.Now()
	peer := clientName(conn)
	conn, err := serverTLS(ctx, conn, &o.Server, 0)
	if err != nil {
		o.UI.Verbosef(1, "client %d %s: %s", id, peer, transport.Explain(err).Msg)
		return
	}
	o.UI.Verbosef(2, "client %d: accepted %s", id, peer)
	var hex *transport.HexStream
	if o.Hex != nil {
		hex = o.Hex.Stream(id, true, "accepted "+peer)
	}
	var (
		echoed int64
		active activity // the last byte either way, for --idle-timeout
	)
	active.touch()
	buf := make([]byte, minReadBuffer)
	for {
		if o.IdleTimeout > 0 {
			conn.SetReadDeadline(active.deadline(o.IdleTimeout))
		}
		var n int
		n, err = conn.Read(buf)
		if n > 0 {
			active.touch()
			if o.UI.Verbosity() >= 3 { // checked first: boxing the arguments costs on the hot path
				o.UI.Verbosef(3, "client %d: read %s", id, byteCount(n))
			}
			if hex != nil {
				hex.Received(buf[:n])
			}
			if o.Delay > 0 && !sleepCtx(ctx, o.Delay) {
				break
			}
			w, werr := conn.Write(buf[:n])
			active.touch()
			echoed += int64(w)
			totals.bytes.Add(int64(w))
			if hex != nil {
				hex.Sent(buf[:w])
			}
			if werr != nil {
				err = werr
				break
			}
			buf = growBuffer(buf, n)
		}
		if err != nil {
			break
		}
	}
	switch {
	case err == io.EOF:
		closeWrite(conn)
		o.UI.Verbosef(1, "client %d %s: echoed %s in %s", id, peer, bytesString(echoed), roundDuration(time.Since(start)))
	case isTimeoutErr(err):
		o.UI.Verbosef(1, "client %d %s: idle for %s, closed after echoing %s", id, peer, o.IdleTimeout, bytesString(echoed))
	case context.Cause(ctx) != nil:
	default:
		o.UI.Verbosef(1, "client %d %s: %s after echoing %s", id, peer, transport.Explain(err).Msg, bytesString(echoed))
	}
}

// echoDatagrams sends each datagram back to its sender, whole.
func echoDatagrams(ctx context.Context, pc net.PacketConn, o *EchoOptions, totals *echoTotals) error {
	growReceiveBuffer(o.UI, pc, o.Network)
	reportDrops := watchDrops(o.UI, pc)
	defer reportDrops() // pc is still open, unless the AfterFunc closed it after reporting
	stop := context.AfterFunc(ctx, func() {
		reportDrops()
		pc.Close()
	})
	defer stop()
	var hex *transport.HexStream
	if o.Hex != nil {
		hex = o.Hex.Stream(1, false, "echoing datagrams on "+pc.LocalAddr().String())
	}
	var (
		senders = make(map[string]bool)
		pending sync.WaitGroup
	)
	defer pending.Wait()
	size := datagramBuffer(o.Network)
	batch, back := newBatchReader(pc, size), newBatchWriter(pc)
	echoed := func(p []byte, name string) {
		totals.bytes.Add(int64(len(p)))
		if hex != nil {
			hex.Note("datagram of %s to %s", byteCount(len(p)), name)
			hex.Sent(p)
		}
	}
	// The datagrams of one read go back with one send, each to its sender.
	var (
		ps    [][]byte
		to    []net.Addr
		names []string
	)
	for {
		ds, err := batch.read()
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
			if isTimeoutErr(err) {
				continue
			}
			return err
		}
		ps, to, names = ps[:0], to[:0], names[:0]
		for _, d := range ds {
			name := addrName(d.from)
			if name == "" {
				o.UI.Verbosef(1, "datagram from %s dropped", orUnnamed(name))
				continue
			}
			if d.truncated {
				o.UI.Warnf("a datagram from %s was larger than %d bytes: only its first %d bytes are echoed", name, size, size)
			}
			if ok, why := o.Access.Permits(d.from); !ok {
				if !senders[name] {
					senders[name] = true // so that it is logged once; never served
					o.UI.Verbosef(1, "refused %s: %s", name, why)
				}
				continue
			}
			if !senders[name] {
				senders[name] = true
				totals.senders.Add(1)
				o.UI.Verbosef(1, "datagram from %s", name)
			}
			totals.datagrams.Add(1)
			if o.UI.Verbosity() >= 2 { // checked first: boxing the arguments costs on the hot path
				o.UI.Verbosef(2, "echo %s to %s", byteCount(len(d.p)), name)
			}
			if hex != nil {
				hex.Note("datagram of %s from %s", byteCount(len(d.p)), name)
				hex.Received(d.p)
			}
			if o.Delay > 0 {
				p, from := append([]byte(nil), d.p...), d.from
				pending.Add(1)
				time.AfterFunc(o.Delay, func() {
					defer pending.Done()
					if _, err := pc.WriteTo(p, from); err != nil {
						o.UI.Verbosef(1, "echo to %s: %v", name, err)
						return
					}
					echoed(p, name)
				})
				continue
			}
			ps, to, names = append(ps, d.p), append(to, d.from), append(names, name)
		}
		for len(ps) > 0 {
			n, err := back.write(ps, to)
			for i := range n {
				echoed(ps[i], names[i])
			}
			if err != nil {
				o.UI.Verbosef(1, "echo to %s: %v", names[n], err)
				n++ // that one is lost; the others still go
			}
			ps, to, names = ps[n:], to[n:], names[n:]
		}
	}
}
