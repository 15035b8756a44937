package modes

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// ExecMaxConns is --max-conns for -lk with -e or -c when none is given,
// as ncat's default: every client costs a process.
const ExecMaxConns = 100

// serveKeep is listen -k: clients are accepted concurrently until sonde is
// interrupted. What each client sends reaches stdout in whole chunks, never
// interleaved mid-chunk; what stdin gives is sent to every connected
// client. stdin is read only while at least one client is connected, so
// nothing typed is lost to an empty room. End of stdin does not shut down
// the clients (they come and go); each one ends when it closes. With -v,
// the end reports the totals of every client, as the echo server does.
func serveKeep(ctx context.Context, ln net.Listener, o *Options) error {
	h := &hub{o: o, clients: make(map[*keepClient]struct{}), joined: make(chan struct{}, 1)}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var served, refused, sent, received atomic.Int64
	var serving atomic.Int32      // clients accepted and not yet gone, for --max-conns
	defer func(start time.Time) { // after wg.Wait: every client counted
		o.UI.Verbosef(1, "served %s (%d refused): sent %s, received %s in %s", plural(served.Load(), "client"), refused.Load(),
			bytesString(sent.Load()), bytesString(received.Load()), roundDuration(time.Since(start)))
	}(time.Now())
	if o.MaxConns > 0 {
		o.UI.Verbosef(1, "serving at most %s at once (--max-conns)", plural(int64(o.MaxConns), "client"))
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if !o.NoStdin && o.Exec == nil { // with -e / -c, each client's program takes stdin's place
		go h.broadcast(ctx) // may stay blocked reading stdin; it owns nothing to clean
	}
	clients := newAcceptor(ln, o.UI)
	for {
		conn, err := clients.accept(ctx)
		if err != nil {
			h.closeAll()
			// The caller's context first: it is cancelled before the
			// AfterFunc that closed the listener runs, this derived one
			// possibly after.
			if cause := context.Cause(parent); cause != nil {
				return cause
			}
			if cause := context.Cause(ctx); cause != nil {
				if errors.Is(cause, errStdoutClosed) {
					return nil
				}
				return cause
			}
			return err
		}
		// A client counts against --max-conns from here, not from the end
		// of its TLS handshake or the start of its program: a burst of
		// clients cannot get past the limit while the first ones are
		// still being set up. Only this loop adds to serving.
		if why := refusal(o.Access, conn, o.MaxConns, int(serving.Load()), "client", "connected"); why != "" {
			refused.Add(1)
			turnAway(o.UI, conn, why)
			continue
		}
		serving.Add(1)
		id := served.Add(1)
		c := &keepClient{id: id, conn: conn, started: time.Now()}
		if o.Hex != nil {
			c.hex = o.Hex.Stream(id, true, "accepted "+clientName(conn))
		}
		o.UI.Verbosef(1, "accepted %s (client %d)", clientName(conn), id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer serving.Add(-1)
			tc, err := serverTLS(ctx, conn, &o.Server, o.Timeout)
			if err != nil {
				o.UI.Warnf("client %d: %s", id, transport.Explain(err).Msg)
				return
			}
			c.conn = tc
			h.add(c)
			if o.Exec != nil {
				err = h.serveExec(ctx, c)
			} else {
				err = h.serve(c)
			}
			h.remove(c)
			conn.Close()
			if errors.Is(err, errStdoutClosed) {
				cancel(errStdoutClosed)
				ln.Close()
				return
			}
			st := stats{sent: c.sent.Load(), received: c.received.Load(), started: c.started}
			sent.Add(st.sent)
			received.Add(st.received)
			switch {
			case err != nil && context.Cause(ctx) != nil:
				o.UI.Verbosef(1, "client %d %s: %s", c.id, clientName(conn), st.summary())
			case err != nil:
				o.UI.Verbosef(1, "client %d %s: %s; %s", c.id, clientName(conn), transport.Explain(err).Msg, st.summary())
			default:
				o.UI.Verbosef(1, "client %d %s closed: %s", c.id, clientName(conn), st.summary())
			}
		}()
	}
}

type keepClient struct {
	id             int64
	conn           net.Conn
	started        time.Time
	writeMu        sync.Mutex
	sent, received atomic.Int64
	hex            *transport.HexStream // nil without --hex
	active         activity             // the last byte either way, for -w
}

type hub struct {
	o        *Options
	mu       sync.Mutex
	clients  map[*keepClient]struct{}
	joined   chan struct{} // a token whenever a client joins
	stdoutMu sync.Mutex    // one chunk at a time on stdout
}

func (h *hub) add(c *keepClient) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	select {
	case h.joined <- struct{}{}:
	default:
	}
}

func (h *hub) remove(c *keepClient) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *hub) snapshot() []*keepClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := make([]*keepClient, 0, len(h.clients))
	for c := range h.clients {
		list = append(list, c)
	}
	return list
}

func (h *hub) closeAll() {
	for _, c := range h.snapshot() {
		c.conn.Close()
	}
}

// serve copies one client's data to stdout, chunk by chunk.
func (h *hub) serve(c *keepClient) error {
	buf := make([]byte, minReadBuffer)
	c.active.touch()
	for {
		if h.o.Timeout > 0 {
			// -w: idle both ways. Sending to the client counts as activity.
			if _, idle := c.active.idle(h.o.Timeout); idle {
				return &transport.IdleError{Peer: clientName(c.conn), Idle: h.o.Timeout}
			}
			c.conn.SetReadDeadline(c.active.deadline(h.o.Timeout))
		}
		n, err := c.conn.Read(buf)
		if isTimeoutErr(err) && n == 0 && h.o.Timeout > 0 {
			continue // the loop head decides whether the client was idle
		}
		if n > 0 {
			c.active.touch()
			c.received.Add(int64(n))
			if c.hex != nil {
				c.hex.Received(buf[:n])
			}
			if !h.o.SendOnly {
				h.stdoutMu.Lock()
				_, werr := h.o.Stdout.Write(buf[:n])
				h.stdoutMu.Unlock()
				if werr != nil {
					if errors.Is(werr, syscall.EPIPE) {
						return errStdoutClosed
					}
					return &stdoutError{werr}
				}
			}
			buf = growBuffer(buf, n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// broadcast sends stdin to every client, with -C and -i applied as in a
// single session. A chunk read while clients were connected but delivered
// to none (they all left) waits for the next one.
func (h *hub) broadcast(ctx context.Context) {
	lines := lineWriter{crlf: h.o.CRLF, interval: h.o.Interval, ctx: ctx,
		w: writerFunc(func(p []byte) (int, error) {
			for h.sendAll(p) == 0 {
				if !h.waitForClient(ctx) {
					return 0, context.Cause(ctx)
				}
			}
			return len(p), nil
		})}
	buf := make([]byte, 64<<10)
	stdin := stdinReader(ctx, h.o)
	for {
		if !h.waitForClient(ctx) {
			return
		}
		n, err := stdin.Read(buf)
		if n > 0 && lines.write(buf[:n]) != nil {
			return
		}
		if err != nil {
			if err != io.EOF && ctx.Err() == nil {
				h.o.UI.Warnf("cannot read stdin: %v", err)
			}
			return
		}
	}
}

func (h *hub) waitForClient(ctx context.Context) bool {
	for h.count() == 0 {
		select {
		case <-h.joined:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// sendAll writes p to every client and returns how many got it whole.
func (h *hub) sendAll(p []byte) int {
	delivered := 0
	for _, c := range h.snapshot() {
		c.writeMu.Lock()
		n, err := c.conn.Write(p)
		if c.hex != nil {
			c.hex.Sent(p[:n])
		}
		c.writeMu.Unlock()
		c.sent.Add(int64(n))
		if n > 0 {
			c.active.touch()
		}
		if err != nil {
			c.conn.Close() // its reader sees the error and reports it
			continue
		}
		delivered++
	}
	return delivered
}
