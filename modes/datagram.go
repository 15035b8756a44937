package modes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// maxDatagram is the largest UDP payload over IPv4 (65,535 - 8 - 20).
const maxDatagram = 65507

// datagramSession holds what UDP and Unix datagram modes share: counters,
// the activity clock and the end-of-session rules.
type datagramSession struct {
	o              *Options
	ctx            context.Context
	hex            *transport.HexStream // nil without --hex
	peer           func() string        // who we talk to, for messages
	sent, received atomic.Int64
	datagrams      atomic.Int64
	active         activity // the last datagram either way, for -w
	heard          activity // the last datagram received, for the linger

	// sendMu makes each datagram sent and its count one step, so that
	// the summary, read after stopSending, counts exactly what was sent.
	sendMu      sync.Mutex
	sendStopped bool
	// canFinish, on a listener, tells whether stdin still has somewhere
	// to go once --replies are in (a peer to answer); nil in connect mode.
	canFinish func() bool
	// delivered, if set, is called after each datagram is delivered and
	// counted. A listener releases stdin to its peer only then, so that
	// stdin cannot be sent, and a -q 0 end the session, before the
	// datagram that chose the peer is counted.
	delivered func()
}

func (s *datagramSession) touch(recv bool) {
	s.active.touch()
	if recv {
		s.heard.last.Store(s.active.last.Load())
	}
}

// gotEnough tells whether --replies N datagrams have arrived.
func (s *datagramSession) gotEnough() bool {
	return s.o.Replies > 0 && s.datagrams.Load() >= int64(s.o.Replies)
}

// watchDrops returns a function that warns, once, about the datagrams the
// kernel dropped on socket c because its receive buffer was full (see
// transport.DropCounter): a flood must not lose data without a word. It
// must run before c is closed; later calls do nothing.
func watchDrops(ui interface{ Warnf(string, ...any) }, c any) func() {
	count := transport.DropCounter(c)
	return sync.OnceFunc(func() {
		if n, ok := count(); ok && n > 0 {
			ui.Warnf("the kernel dropped %s: they arrived faster than sonde read them and its receive buffer was full", plural(int64(n), "datagram"))
		}
	})
}

// truncated warns that a datagram did not fit the buffer: its end is lost.
func (s *datagramSession) truncated(from string, size int) {
	s.o.UI.Warnf("a datagram from %s was larger than %d bytes: only its first %d bytes were received", from, size, size)
}

// deliver counts one datagram received and dumps it with --hex. Its
// bytes go to stdout through out. The clocks are the caller's: one touch
// per read serves every datagram it brought.
func (s *datagramSession) deliver(p []byte, from string) {
	s.received.Add(int64(len(p)))
	s.datagrams.Add(1)
	if s.hex != nil {
		s.hex.Note("datagram of %s from %s", byteCount(len(p)), orUnnamed(from))
		s.hex.Received(p)
	}
}

// stdoutWriter writes received datagrams to stdout. Where stdout is a
// byte stream (see byteStream) the datagrams of one batch go out in one
// write, which a reader cannot tell from one write each; elsewhere each
// datagram is one write, so that its boundary is kept when stdout is
// itself a datagram-preserving socket.
type stdoutWriter struct {
	w       io.Writer
	discard bool // --send-only
	gather  bool
	pending []byte
}

func newStdoutWriter(o *Options) *stdoutWriter {
	return &stdoutWriter{w: o.Stdout, discard: o.SendOnly, gather: byteStream(o.Stdout)}
}

// add writes p, or keeps it for flush.
func (w *stdoutWriter) add(p []byte) error {
	switch {
	case w.discard:
		return nil
	case w.gather:
		w.pending = append(w.pending, p...)
		return nil
	}
	return w.put(p)
}

// flush writes what add kept, at the end of a batch.
func (w *stdoutWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	err := w.put(w.pending)
	w.pending = w.pending[:0]
	return err
}

func (w *stdoutWriter) put(p []byte) error {
	if _, err := w.w.Write(p); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return errStdoutClosed
		}
		return &stdoutError{err}
	}
	return nil
}

// runDatagramConnect: each read from stdin becomes one datagram; received
// datagrams go to stdout as they come. After stdin ends, sonde lingers
// until no datagram has arrived for the linger time (-q, default 1s).
func runDatagramConnect(ctx context.Context, conn net.Conn, o *Options) (sent, received int64, err error) {
	s := &datagramSession{o: o, ctx: ctx, peer: func() string { return peerName(conn) }}
	growReceiveBuffer(o.UI, conn, o.Network)
	reportDrops := watchDrops(o.UI, conn)
	if o.Hex != nil {
		s.hex = o.Hex.Stream(1, false, fmt.Sprintf("%s %s to %s", describeNetwork(o.Network), conn.LocalAddr(), peerName(conn)))
	}
	s.touch(false)
	if o.Progress {
		stop := startProgress(o, &s.sent, &s.received)
		defer stop()
	}
	recvDone := make(chan error, 1)
	go func() {
		recvDone <- s.receive(conn.(datagramReader), func(_ int, _ net.Addr, truncated bool, size int) (string, bool) {
			if truncated {
				s.truncated(peerName(conn), size)
			}
			return peerName(conn), true
		})
	}()
	var sendDone chan error
	if !o.NoStdin {
		sendDone = make(chan error, 1)
		go func() {
			sendDone <- s.sendDatagrams(&datagramDest{w: newBatchWriter(conn)}, func() string { return peerName(conn) })
		}()
	}
	err = s.wait(recvDone, sendDone, func(err error) error {
		return &transport.StreamError{Peer: peerName(conn), Network: o.Network, Received: s.received.Load(), Err: err}
	}, false)
	reportDrops()
	s.stopSending(conn)
	conn.Close()
	return s.sent.Load(), s.received.Load(), err
}

// receive reads datagrams from c and delivers them until --replies are
// in, or reading or delivering fails. seen is told of each datagram before
// it is delivered: it names its sender and says whether it is heard at
// all (a listener drops the datagrams of senders other than its peer).
// Datagrams that came in the same batch as the last of --replies N are
// not delivered: they are the N+1st and later, which sonde never reads
// when they come one at a time.
func (s *datagramSession) receive(c datagramReader, seen func(n int, from net.Addr, truncated bool, size int) (name string, heard bool)) error {
	size := datagramBuffer(s.o.Network)
	batch := newBatchReader(c, size)
	out := newStdoutWriter(s.o)
	for {
		ds, err := batch.read()
		if err != nil {
			return err
		}
		touched := false
		for _, d := range ds {
			name, heard := seen(len(d.p), d.from, d.truncated, size)
			if !heard {
				continue
			}
			if !touched {
				s.touch(true) // they all came with this read
				touched = true
			}
			s.deliver(d.p, name)
			if s.delivered != nil {
				s.delivered()
			}
			if err := out.add(d.p); err != nil {
				return err
			}
			if s.gotEnough() {
				return out.flush()
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
}

// sendDatagrams reads stdin and sends each read (each line with -i) as
// one datagram through dst; to names the peer for --hex. It returns nil
// at stdin EOF.
func (s *datagramSession) sendDatagrams(dst *datagramDest, to func() string) error {
	send := func(ps [][]byte) (int, error) {
		s.sendMu.Lock()
		defer s.sendMu.Unlock()
		if s.sendStopped {
			return 0, net.ErrClosed
		}
		n, err := dst.send(ps)
		if n > 0 {
			s.touch(false)
		}
		for _, p := range ps[:n] {
			s.sent.Add(int64(len(p)))
			if s.hex != nil {
				s.hex.Note("datagram of %s to %s", byteCount(len(p)), to())
				s.hex.Sent(p)
			}
		}
		return n, err
	}
	if s.o.Interval > 0 {
		// -i paces lines one by one: nothing is ever ready to batch.
		one := make([][]byte, 1)
		lines := lineWriter{w: writerFunc(func(p []byte) (int, error) {
			one[0] = p
			if n, err := send(one); n == 0 {
				return 0, err
			}
			return len(p), nil
		}), crlf: s.o.CRLF, interval: s.o.Interval, ctx: s.ctx}
		return lines.copyFrom(s.o.Stdin, make([]byte, maxDatagram), nil)
	}
	return sendReadAhead(s.o.Stdin, s.o.CRLF, send)
}

// stopSending ends the sending of stdin on socket c once the session is
// over: a datagram is either sent and counted or not sent at all, so the
// counts read afterwards are exact. A send stuck on a full Unix datagram
// queue is cut short.
func (s *datagramSession) stopSending(c interface{ SetWriteDeadline(time.Time) error }) {
	c.SetWriteDeadline(time.Unix(1, 0))
	s.sendMu.Lock()
	s.sendStopped = true
	s.sendMu.Unlock()
}

// tooFewReplies is the end of a session that brought fewer datagrams than
// --replies asked for: a failure, since whoever asked for N counted on
// them. cause is why the session ended, if it was not the linger.
type tooFewReplies struct {
	want  int
	got   int64
	cause error
}

func (e *tooFewReplies) Error() string {
	noun := "replies"
	if e.want == 1 {
		noun = "reply"
	}
	msg := fmt.Sprintf("expected %d %s, got %d", e.want, noun, e.got)
	if e.cause != nil {
		msg += " (" + e.cause.Error() + ")"
	}
	return msg
}

// ended is the end of a session by the linger (cause nil) or by -w: a
// failure when --replies N datagrams have not all come.
func (s *datagramSession) ended(cause error) error {
	if s.o.Replies > 0 && !s.gotEnough() {
		return &tooFewReplies{want: s.o.Replies, got: s.datagrams.Load(), cause: cause}
	}
	return cause
}

// wait runs the end-of-session rules of both datagram modes. listening
// changes three of them: stdin EOF starts no linger (a listener keeps
// serving unless -q says otherwise), -w counts from the first datagram,
// and once --replies are in, a listener still sends the rest of a piped
// stdin to its peer (a terminal's ends the session at once, as a stream
// session does when its peer closes).
func (s *datagramSession) wait(recvDone, sendDone chan error, netErr func(error) error, listening bool) error {
	o := s.o
	var (
		lingerC   <-chan time.Time
		linger    time.Duration
		timer     *time.Timer
		finishing bool // --replies are in; stdin is still being sent
	)
	startLinger := func(d time.Duration) {
		linger = d
		timer = time.NewTimer(d)
		lingerC = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	if sendDone == nil && o.QuitSet && o.Quit >= 0 {
		startLinger(o.Quit) // -d: stdin ends before it starts, so -q counts from now
	}
	idle := s.active.idleTimer(o.Timeout)
	defer idle.stop()
	for {
		select {
		case err := <-recvDone:
			switch {
			case err == nil && sendDone != nil && !o.Interactive && s.canFinish != nil && s.canFinish():
				recvDone, finishing = nil, true
				continue
			case err == nil, errors.Is(err, errStdoutClosed):
				return nil
			case context.Cause(s.ctx) != nil:
				return context.Cause(s.ctx)
			}
			var out *stdoutError
			if errors.As(err, &out) {
				return err
			}
			return netErr(err)
		case err := <-sendDone:
			sendDone = nil
			if err != nil {
				var in *stdinError
				if errors.As(err, &in) || context.Cause(s.ctx) != nil {
					return err
				}
				return netErr(err)
			}
			switch {
			case finishing:
				return nil
			case o.QuitSet && o.Quit >= 0:
				startLinger(o.Quit)
			case o.QuitSet || listening:
				// -q negative, or a listener: keep receiving
			default:
				startLinger(DefaultLinger)
			}
			s.touch(true) // the linger counts from stdin EOF
		case <-lingerC:
			quiet := s.heard.idleFor()
			if quiet >= linger {
				return s.ended(nil)
			}
			timer.Reset(linger - quiet)
		case <-idle.C:
			// A listener's -w counts from the first datagram; after stdin
			// EOF, the linger governs.
			if listening && s.datagrams.Load() == 0 || sendDone == nil && lingerC != nil {
				idle.rearm()
				continue
			}
			if idle.expired() {
				return s.ended(&transport.IdleError{Peer: s.peer(), Idle: o.Timeout})
			}
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
	}
}

// runDatagramListen receives from the first sender (see datagramPeer) and
// sends it stdin, which is read only once that sender is known.
func runDatagramListen(ctx context.Context, pc net.PacketConn, o *Options) error {
	s := &datagramSession{o: o, ctx: ctx, peer: func() string { return "the senders" }}
	if o.Hex != nil {
		s.hex = o.Hex.Stream(1, false, fmt.Sprintf("%s listening on %s", describeNetwork(o.Network), pc.LocalAddr()))
	}
	s.touch(false)
	if o.Progress {
		stop := startProgress(o, &s.sent, &s.received)
		defer stop()
	}
	peer := newDatagramPeer(o.Keep)
	s.canFinish = peer.answerable
	s.delivered = peer.confirm
	if !o.Keep {
		s.peer = func() string {
			if _, name := peer.current(); name != "" {
				return name
			}
			return "the senders"
		}
	}
	var ignored, refused atomic.Int64
	growReceiveBuffer(o.UI, pc, o.Network)
	reportDrops := watchDrops(o.UI, pc)
	defer reportDrops() // at the end, while pc is open: unless the AfterFunc closed it, and reported first
	stop := context.AfterFunc(ctx, func() {
		reportDrops()
		pc.Close()
	})
	defer stop()
	recvDone := make(chan error, 1)
	reported := make(reportedSenders)
	go func() {
		var names lastName
		recvDone <- s.receive(pc, func(n int, from net.Addr, truncated bool, size int) (string, bool) {
			name := names.of(from)
			if ok, why := o.Access.Permits(from); !ok {
				refused.Add(1)
				if reported.first("refused " + name) {
					o.UI.Verbosef(1, "refused %s: %s", name, why)
				}
				return name, false
			}
			heard, newSender := peer.admit(from, name)
			if !heard {
				ignored.Add(1)
				if reported.first(name) {
					_, to := peer.current()
					first := "the first sender"
					if o.Network == "unixgram" {
						first = "the first named sender"
					}
					o.UI.Verbosef(1, "ignored a datagram from %s: sonde hears only %s, %s (-k hears every sender)", orUnnamed(name), to, first)
				}
				o.UI.Verbosef(2, "ignored %s from %s", byteCount(n), orUnnamed(name))
				return name, false
			}
			if truncated {
				s.truncated(orUnnamed(name), size)
			}
			if newSender {
				o.UI.Verbosef(1, "datagram from %s", orUnnamed(name))
			}
			if o.UI.Verbosity() >= 2 { // checked first: boxing the arguments costs on the hot path
				o.UI.Verbosef(2, "received %s from %s", byteCount(n), orUnnamed(name))
			}
			return name, true
		})
	}()
	var sendDone chan error
	if !o.NoStdin {
		sendDone = make(chan error, 1)
		go func() {
			select {
			case <-peer.known:
			case <-ctx.Done():
				sendDone <- context.Cause(ctx)
				return
			}
			to := func() net.Addr { addr, _ := peer.current(); return addr }
			sendDone <- s.sendDatagrams(&datagramDest{w: newBatchWriter(pc), to: to}, func() string { _, name := peer.current(); return name })
		}()
	}
	err := s.wait(recvDone, sendDone, func(err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		return &transport.StreamError{Peer: "sender", Network: o.Network, Received: s.received.Load(), Err: err}
	}, true)
	s.stopSending(pc)
	o.UI.Verbosef(1, "sent %s, received %s in %s", bytesString(s.sent.Load()), bytesString(s.received.Load()), plural(s.datagrams.Load(), "datagram"))
	if n := ignored.Load(); n > 0 {
		o.UI.Verbosef(1, "ignored %s from other senders", plural(n, "datagram"))
	}
	if n := refused.Load(); n > 0 {
		o.UI.Verbosef(1, "refused %s (--allow, --deny)", plural(n, "datagram"))
	}
	return err
}

// DefaultLinger is how long UDP connect keeps receiving after stdin ends.
const DefaultLinger = time.Second
