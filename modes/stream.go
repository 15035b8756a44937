package modes

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// streamSession pipes stdin and stdout through one TCP or Unix stream
// connection. A session ends by these rules:
//
//   - stdin EOF: half-close (unless --no-shutdown), keep reading until the
//     peer closes; -q bounds that wait;
//   - peer EOF: with a terminal (or no) stdin, exit at once; with a pipe or
//     file, finish sending it first, since a peer that half-closed may still
//     be reading (sonde -l < /dev/null does exactly that);
//   - -w: no byte either way for that long ends the session with an error.
type streamSession struct {
	conn net.Conn
	o    *Options
	ctx  context.Context
	hex  *transport.HexStream // nil without --hex

	sent, received atomic.Int64
	active         activity // the last byte moved either way, for -w
}

// observed tells whether every chunk must pass through sonde's own loop.
// Otherwise io.Copy moves the bytes, so the kernel can splice or sendfile.
func (s *streamSession) observed() bool {
	o := s.o
	return o.Timeout > 0 || o.CRLF || o.Interval > 0 || o.UI.Verbosity() > 0 || s.hex != nil || o.Progress
}

// runStream runs a session on conn until it ends, and returns the bytes
// moved each way and why it ended (nil for a clean end).
func runStream(ctx context.Context, conn net.Conn, o *Options, hex *transport.HexStream) (sent, received int64, err error) {
	ctx, cancel := context.WithCancel(ctx) // ends a wait for the terminal with the session
	defer cancel()
	s := &streamSession{conn: conn, o: o, ctx: ctx, hex: hex}
	s.active.touch()
	if o.Progress {
		stop := startProgress(o, &s.sent, &s.received)
		defer stop()
	}
	err = s.run()
	return s.sent.Load(), s.received.Load(), err
}

func (s *streamSession) run() error {
	o := s.o
	recvDone := make(chan error, 1)
	sendDone := make(chan error, 1)
	go func() { recvDone <- s.receive() }()
	if o.NoStdin {
		sendDone = nil
	} else {
		go func() { sendDone <- s.send() }()
	}

	var (
		quitC      <-chan time.Time
		peerClosed bool
		stdinDone  = o.NoStdin
		halfClosed bool // sonde shut its write side down
		sendErr    error
	)
	finish := func(err error) error {
		s.conn.Close()
		return err
	}
	if o.NoStdin && o.QuitSet && o.Quit >= 0 {
		quitC = time.After(o.Quit) // -d: stdin ends before it starts, so -q counts from now, as in nc
	}
	idle := s.active.idleTimer(o.Timeout)
	defer idle.stop()
	for {
		select {
		case err := <-recvDone:
			recvDone = nil
			if err != nil {
				s.conn.Close()
				sending := s.settleSent(err, sendDone) || sendErr != nil
				return finish(s.explainRecv(err, sendErr, sending))
			}
			if sendErr != nil {
				return finish(s.explainSend(sendErr))
			}
			peerClosed = true
			if halfClosed {
				s.warnProxyHangUp()
			}
			if stdinDone || o.Interactive {
				return finish(nil)
			}
			// a pipe or file on stdin: finish sending it (see above)
		case err := <-sendDone:
			sendDone = nil
			stdinDone = true
			if err != nil {
				var in *stdinError
				if errors.As(err, &in) {
					return finish(err)
				}
				if peerClosed {
					return finish(s.explainSend(err))
				}
				// The peer is gone; the reader will see it and say how.
				sendErr = err
				s.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				continue
			}
			if !o.NoShutdown {
				closeWrite(s.conn)
				halfClosed = true
			}
			if peerClosed {
				return finish(nil)
			}
			if o.QuitSet && o.Quit >= 0 {
				quitC = time.After(o.Quit)
			}
		case <-quitC:
			return finish(nil)
		case <-idle.C:
			if idle.expired() {
				return finish(&transport.IdleError{Peer: s.conn.RemoteAddr().String(), Idle: o.Timeout})
			}
		case <-s.ctx.Done():
			return finish(context.Cause(s.ctx))
		}
	}
}

// settleSent waits for a sender still running once the connection is
// closed, and tells whether it failed: whether the connection broke while
// sonde was sending. That settles the count too: io.Copy, which moves the
// bytes unobserved, counts them only when it returns. The wait is bounded,
// and skipped for a terminal, where the sender waits for a line typed.
func (s *streamSession) settleSent(recvErr error, sendDone <-chan error) (failed bool) {
	var out *stdoutError
	if sendDone == nil || s.o.Interactive || errors.As(recvErr, &out) {
		return false
	}
	select {
	case err := <-sendDone:
		return err != nil
	case <-time.After(time.Second):
		return false
	}
}

// warnProxyHangUp explains a tunnel that closed after sonde's half-close
// without a byte from the target: many proxies (squid, ncat) take a
// half-close for a hang-up and close both ways before any answer.
func (s *streamSession) warnProxyHangUp() {
	if s.o.Proxy == nil || s.received.Load() > 0 {
		return
	}
	s.o.UI.Warnf("the tunnel through proxy %s closed after sonde's half-close, with nothing received: the proxy may take a half-close for a hang-up", peerName(s.conn))
	s.o.UI.Hintf("keep the write side open with --no-shutdown, and end with -q DUR, e.g. --no-shutdown -q 5")
}

// explainRecv words the error that ended receiving. sending tells that
// sending failed too: only then does the report say how much was sent,
// since that is what the peer cut short.
func (s *streamSession) explainRecv(err, sendErr error, sending bool) error {
	var out *stdoutError
	if errors.As(err, &out) {
		if errors.Is(out.err, syscall.EPIPE) {
			return nil // our reader went away: end quietly
		}
		return err
	}
	if cause := context.Cause(s.ctx); cause != nil {
		return cause
	}
	if sendErr != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = sendErr
	}
	se := &transport.StreamError{Peer: peerName(s.conn), Network: s.o.Network, Received: s.received.Load(), Err: err}
	if sending {
		se.Sent = s.sent.Load()
	}
	return se
}

func (s *streamSession) explainSend(err error) error {
	if cause := context.Cause(s.ctx); cause != nil {
		return cause
	}
	return &transport.StreamError{Peer: peerName(s.conn), Network: s.o.Network, Received: s.received.Load(), Sent: s.sent.Load(), Err: err}
}

// receive copies the connection to stdout (or discards it with --send-only).
func (s *streamSession) receive() error {
	dst := s.o.Stdout
	if s.o.SendOnly {
		dst = io.Discard
	}
	if s.o.TLSClient == nil && s.o.TLSServer == nil {
		if eof, err := s.receiveFirst(dst); eof || err != nil {
			return err
		}
	}
	if !s.observed() {
		n, err := io.Copy(dst, s.conn)
		s.received.Add(n)
		// When the kernel splices socket to file, os.File reports the
		// socket's errors as its own: tell them apart by errno.
		var pe *os.PathError
		if errors.As(err, &pe) && !isSocketErrno(err) {
			return &stdoutError{err}
		}
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := s.conn.Read(buf)
		if n > 0 {
			s.active.touch()
			s.received.Add(int64(n))
			if s.hex != nil {
				s.hex.Received(buf[:n])
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return &stdoutError{werr}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// receiveFirst handles the first chunk of a plain session by itself, to
// notice a peer that speaks TLS (its alert or hello would otherwise land
// on stdout unexplained). eof tells that the peer has already closed.
func (s *streamSession) receiveFirst(dst io.Writer) (eof bool, err error) {
	buf := make([]byte, 16<<10)
	n, err := s.conn.Read(buf)
	if err != nil && err != io.EOF {
		return true, err
	}
	if n > 0 {
		s.active.touch()
		s.received.Add(int64(n))
		if transport.LooksLikeTLS(buf[:n]) {
			s.o.UI.Warnf("%s sent a TLS record: it speaks TLS; try again with --tls", peerName(s.conn))
		}
		if s.hex != nil {
			s.hex.Received(buf[:n])
		}
		if _, werr := dst.Write(buf[:n]); werr != nil {
			return false, &stdoutError{werr}
		}
	}
	if err == io.EOF {
		return true, nil
	}
	return err != nil, err
}

// send copies stdin to the connection. It returns nil at stdin EOF.
func (s *streamSession) send() error {
	stdin := stdinReader(s.ctx, s.o)
	if !s.observed() {
		n, err := io.Copy(s.conn, stdin)
		s.sent.Add(n)
		var op *net.OpError
		if err != nil && !errors.As(err, &op) {
			return &stdinError{err}
		}
		return err
	}
	buf := make([]byte, 64<<10)
	lines := lineWriter{w: s.conn, crlf: s.o.CRLF, interval: s.o.Interval, ctx: s.ctx,
		onWrite: func(p []byte) {
			s.active.touch()
			s.sent.Add(int64(len(p)))
			if s.hex != nil {
				s.hex.Sent(p)
			}
		}}
	return lines.copyFrom(stdin, buf, s.active.touch)
}
