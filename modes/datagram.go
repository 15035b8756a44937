package modes

import (
	"context"
	"errors"
	"fmt"
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
}

func (s *datagramSession) touch(recv bool) {
	s.active.touch()
	if recv {
		s.heard.touch()
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

// deliver writes one datagram to stdout as one write, so its boundary is
// kept when stdout is itself a datagram-preserving pipe or socket.
func (s *datagramSession) deliver(p []byte, from string) error {
	s.received.Add(int64(len(p)))
	s.datagrams.Add(1)
	s.touch(true)
	if s.hex != nil {
		s.hex.Note("datagram of %s from %s", byteCount(len(p)), orUnnamed(from))
		s.hex.Received(p)
	}
	if s.o.SendOnly {
		return nil
	}
	if _, err := s.o.Stdout.Write(p); err != nil {
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
		recvDone <- s.receive(conn.(datagramReader), func(_ int, _ net.Addr, truncated bool, size int) string {
			if truncated {
				s.truncated(peerName(conn), size)
			}
			return peerName(conn)
		})
	}()
	var sendDone chan error
	if !o.NoStdin {
		sendDone = make(chan error, 1)
		go func() { sendDone <- s.sendDatagrams(conn.Write, func() string { return peerName(conn) }) }()
	}
	err = s.wait(recvDone, sendDone, func(err error) error {
		return &transport.StreamError{Peer: peerName(conn), Network: o.Network, Received: s.received.Load(), Err: err}
	}, false)
	reportDrops()
	conn.Close()
	return s.sent.Load(), s.received.Load(), err
}

// receive reads datagrams from c and delivers them until --replies are
// in, or reading or delivering fails. seen is told of each datagram before
// it is delivered, and names its sender.
func (s *datagramSession) receive(c datagramReader, seen func(n int, from net.Addr, truncated bool, size int) string) error {
	buf := make([]byte, datagramBuffer(s.o.Network))
	for {
		n, from, truncated, err := readDatagram(c, buf)
		if err != nil {
			return err
		}
		name := seen(n, from, truncated, len(buf))
		if err := s.deliver(buf[:n], name); err != nil {
			return err
		}
		if s.gotEnough() {
			return nil
		}
	}
}

// sendDatagrams reads stdin and sends each read (each line with -i) as a
// datagram through write. It returns nil at stdin EOF.
func (s *datagramSession) sendDatagrams(write func([]byte) (int, error), to func() string) error {
	buf := make([]byte, maxDatagram)
	lines := lineWriter{w: writerFunc(write), crlf: s.o.CRLF, interval: s.o.Interval, ctx: s.ctx,
		onWrite: func(p []byte) {
			s.touch(false)
			s.sent.Add(int64(len(p)))
			if s.hex != nil {
				s.hex.Note("datagram of %s to %s", byteCount(len(p)), to())
				s.hex.Sent(p)
			}
		}}
	return lines.copyFrom(s.o.Stdin, buf, nil)
}

// wait runs the end-of-session rules of both datagram modes. listening
// changes two of them: stdin EOF starts no linger (a listener keeps
// serving unless -q says otherwise), and -w counts from the first datagram.
func (s *datagramSession) wait(recvDone, sendDone chan error, netErr func(error) error, listening bool) error {
	o := s.o
	var (
		lingerC <-chan time.Time
		linger  time.Duration
		timer   *time.Timer
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
				return nil
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
				return &transport.IdleError{Peer: s.peer(), Idle: o.Timeout}
			}
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
	}
}

// runDatagramListen receives from any sender; stdin goes to the most
// recent sender, and is read only once someone has sent something.
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
	var (
		mu       sync.Mutex
		last     net.Addr
		haveAddr = make(chan struct{})
		once     sync.Once
	)
	reportDrops := watchDrops(o.UI, pc)
	defer reportDrops() // at the end, while pc is open: unless the AfterFunc closed it, and reported first
	stop := context.AfterFunc(ctx, func() {
		reportDrops()
		pc.Close()
	})
	defer stop()
	recvDone := make(chan error, 1)
	go func() {
		recvDone <- s.receive(pc, func(n int, from net.Addr, truncated bool, size int) string {
			name := addrName(from)
			if truncated {
				s.truncated(orUnnamed(name), size)
			}
			mu.Lock()
			isNew := last == nil || addrName(last) != name
			if name != "" {
				last = from
			}
			mu.Unlock()
			if isNew {
				o.UI.Verbosef(1, "datagram from %s", orUnnamed(name))
				if name != "" {
					once.Do(func() { close(haveAddr) })
				}
			}
			o.UI.Verbosef(2, "received %s from %s", byteCount(n), orUnnamed(name))
			return name
		})
	}()
	var sendDone chan error
	if !o.NoStdin {
		sendDone = make(chan error, 1)
		go func() {
			select {
			case <-haveAddr:
			case <-ctx.Done():
				sendDone <- context.Cause(ctx)
				return
			}
			lastName := func() string {
				mu.Lock()
				defer mu.Unlock()
				return addrName(last)
			}
			sendDone <- s.sendDatagrams(func(p []byte) (int, error) {
				mu.Lock()
				to := last
				mu.Unlock()
				return pc.WriteTo(p, to)
			}, lastName)
		}()
	}
	err := s.wait(recvDone, sendDone, func(err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		return &transport.StreamError{Peer: "sender", Network: o.Network, Received: s.received.Load(), Err: err}
	}, true)
	o.UI.Verbosef(1, "sent %s, received %s in %s", bytesString(s.sent.Load()), bytesString(s.received.Load()), plural(s.datagrams.Load(), "datagram"))
	return err
}

// DefaultLinger is how long UDP connect keeps receiving after stdin ends.
const DefaultLinger = time.Second
