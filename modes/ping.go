package modes

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultPingInterval is the time between two probes unless -i says.
const DefaultPingInterval = time.Second

// PingMode chooses what a probe measures.
type PingMode int

const (
	// PingTCP times TCP handshakes: connect, then close at once.
	PingTCP PingMode = iota
	// PingUDP times datagrams to a UDP echo server; each carries a
	// sequence number and a timestamp, so loss, duplicates, reordering
	// and late replies are told apart.
	PingUDP
	// PingEcho times a small payload's round trip over one TCP
	// connection to an echo server, opened before the first probe.
	PingEcho
)

func (m PingMode) String() string {
	switch m {
	case PingUDP:
		return "udp"
	case PingEcho:
		return "echo"
	}
	return "tcp"
}

// PingOptions configure sonde ping, which times a probe (a handshake, a
// datagram or an echoed frame) at a steady pace and sums the times up.
type PingOptions struct {
	Host     string // a name or an address, as the user gave it
	Port     int
	Family   int    // 0, 4 or 6
	Numeric  bool   // -n
	Source   string // -s: local address, "" for any
	Mode     PingMode
	Count    int           // -c: probes to send; 0 until interrupted
	Interval time.Duration // -i: between probe starts; 0 for DefaultPingInterval
	Timeout  time.Duration // -w: per probe; 0 for DefaultProbeTimeout
	JSON     bool          // --json: one object per probe and a summary on Stdout

	Stdout io.Writer
	UI     *ui.UI

	// OnReady, if set, is told the target address once the address is
	// resolved (and, with --echo, connected), just before the first probe.
	OnReady func(net.Addr)
}

// pingProbeJSON is one line of ping --json: a probe's sequence number
// and either its round trip in milliseconds or why it failed (the other
// field is null).
type pingProbeJSON struct {
	Seq   int      `json:"seq"`
	OK    bool     `json:"ok"`
	RTTms *float64 `json:"rtt_ms"`
	Error *string  `json:"error"`
}

// pingSummaryJSON ends ping --json with the statistics of the text summary.
type pingSummaryJSON struct {
	Type        string   `json:"type"` // "summary"
	Host        string   `json:"host"`
	Addr        string   `json:"addr"`
	Port        int      `json:"port"`
	Mode        string   `json:"mode"` // "tcp", "udp" or "echo"
	Sent        int      `json:"sent"`
	OK          int      `json:"ok"`
	LossPct     float64  `json:"loss_pct"`
	MinMs       *float64 `json:"min_ms"`
	AvgMs       *float64 `json:"avg_ms"`
	MaxMs       *float64 `json:"max_ms"`
	StddevMs    *float64 `json:"stddev_ms"`
	P50Ms       *float64 `json:"p50_ms"`
	P90Ms       *float64 `json:"p90_ms"`
	P99Ms       *float64 `json:"p99_ms"`
	Duplicates  int      `json:"duplicates"`
	Reordered   int      `json:"reordered"`
	Late        int      `json:"late"`
	ElapsedMs   float64  `json:"elapsed_ms"`
	Interrupted bool     `json:"interrupted"`
}

// pingReply is what a pinger learned: the outcome of probe seq, or (err
// set) that the session cannot go on.
type pingReply struct {
	seq     int
	ok      bool
	rtt     time.Duration
	why     string // why the probe failed
	refused bool   // an ICMP port unreachable, not tied to a sequence number
	err     error
}

// A pinger sends probes; outcomes arrive on the channel it was given.
type pinger interface {
	// send starts probe seq; a non-nil reply is its immediate outcome.
	send(seq int) *pingReply
	// timed tells whether the loop must fail a probe that got no reply
	// within the timeout (TCP handshakes time out by themselves).
	timed() bool
	// close stops the pinger and waits for its goroutines.
	close()
}

// Ping sends probes every interval until Count probes are done or ctx
// ends, prints one line per probe and a ping(8)-style summary (even when
// every probe failed, and on Ctrl-C). DNS is resolved once, before the
// first probe, and is not part of any time. It returns nil when a probe
// succeeded, the interruption when interrupted, and *ExitStatus 1 else.
func Ping(ctx context.Context, o *PingOptions) error {
	u := o.UI
	interval := cmp.Or(o.Interval, DefaultPingInterval)
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	addr, src, err := resolveOnce(ctx, o.Host, o.Source, o.Family, o.Numeric, u)
	if err != nil {
		return err
	}
	target := netip.AddrPortFrom(addr, uint16(o.Port))
	replies := make(chan pingReply, 64)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var p pinger
	switch o.Mode {
	case PingTCP:
		p = &tcpPinger{ctx: pctx, target: target, opts: transport.ProbeOptions{Source: src, Timeout: timeout}, replies: replies}
	case PingUDP:
		p, err = newDatagramPinger(target, src, replies)
	case PingEcho:
		p, err = newEchoPinger(ctx, target, src, timeout, replies, u)
	}
	if err != nil {
		return err
	}
	what := map[PingMode]string{PingTCP: "TCP handshake", PingUDP: "UDP echo", PingEcho: "TCP echo over one connection"}[o.Mode]
	if !o.JSON {
		u.Infof("ping %s port %d: %s every %s", hostAndAddr(o.Host, addr), o.Port, what, interval)
	}

	if o.OnReady != nil {
		o.OnReady(net.TCPAddrFromAddrPort(target))
	}
	s := &pingSession{o: o, u: u, p: p, target: target, timeout: timeout, replies: replies}
	s.run(ctx, interval)
	cancel()
	p.close()

	if s.sessionErr != nil {
		s.reportSessionError()
	}
	if err := s.summary(addr); errors.Is(err, errStdoutClosed) {
		return nil
	}
	switch {
	case s.interrupted:
		return context.Cause(ctx)
	case s.stdoutClosed:
		return nil
	case s.sessionErr != nil || s.stats.ok == 0:
		return &ExitStatus{Code: 1}
	}
	return nil
}

// pingProbe is the record of one probe.
type pingProbe struct {
	sent     time.Time
	decided  bool
	ok       bool
	timedOut bool
}

type pingStats struct {
	sent, ok, dup, reordered, late int
	rtts                           []time.Duration
}

type pingSession struct {
	o       *PingOptions
	u       *ui.UI
	p       pinger
	target  netip.AddrPort
	timeout time.Duration
	replies chan pingReply

	probes       []pingProbe // probes[seq-1]
	pending      []int       // sequence numbers awaiting an outcome, oldest first
	maxOK        int         // highest sequence number answered so far
	stats        pingStats
	start, end   time.Time
	interrupted  bool
	stdoutClosed bool
	sessionErr   error
}

// run is the event loop: it sends on schedule, collects replies, fails
// probes past their deadline, and returns when all is done or ctx ends.
// Probe n is due at start + (n-1)*interval, so delays never accumulate.
func (s *pingSession) run(ctx context.Context, interval time.Duration) {
	o := s.o
	s.start = time.Now()
	defer func() { s.end = time.Now() }()
	sendTimer := time.NewTimer(0)
	defer sendTimer.Stop()
	deadTimer := time.NewTimer(time.Hour)
	defer deadTimer.Stop()
	for {
		if ctx.Err() != nil { // select picks at random among ready cases
			s.interrupted = true
			return
		}
		var sendC, deadC <-chan time.Time
		if o.Count == 0 || len(s.probes) < o.Count {
			sendC = sendTimer.C
		}
		s.dropDecided()
		if s.p.timed() && len(s.pending) > 0 {
			deadTimer.Reset(time.Until(s.probes[s.pending[0]-1].sent.Add(s.timeout)))
			deadC = deadTimer.C
		}
		if sendC == nil && len(s.pending) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			s.interrupted = true
			return
		case <-sendC:
			seq := len(s.probes) + 1
			s.probes = append(s.probes, pingProbe{sent: time.Now()})
			s.pending = append(s.pending, seq)
			if r := s.p.send(seq); r != nil {
				if !s.handle(*r) {
					return
				}
			}
			// The next probe is due on the schedule, not an interval from
			// now: a late timer (a starved machine) delays one probe, and
			// the next ones catch up, so the pace holds over any run.
			sendTimer.Reset(time.Until(s.start.Add(time.Duration(seq) * interval)))
		case r := <-s.replies:
			if !s.handle(r) {
				return
			}
		case now := <-deadC:
			for _, seq := range s.pending {
				pr := &s.probes[seq-1]
				if pr.decided {
					continue
				}
				if now.Before(pr.sent.Add(s.timeout)) {
					break
				}
				pr.timedOut = true
				if !s.decide(seq, false, 0, "no reply within "+s.timeout.String()) {
					return
				}
			}
		}
	}
}

// dropDecided removes decided probes from the front of the pending queue;
// one decided out of order stays until those before it are, and is
// skipped where the queue is read.
func (s *pingSession) dropDecided() {
	i := 0
	for i < len(s.pending) && s.probes[s.pending[i]-1].decided {
		i++
	}
	s.pending = s.pending[i:]
}

// handle takes one reply; it returns false when the session must end.
func (s *pingSession) handle(r pingReply) bool {
	if r.err != nil {
		s.sessionErr = r.err
		return false
	}
	if r.refused {
		// An ICMP error names no probe, and a socket keeps only the last
		// one: errors for several datagrams may come as one. Nothing
		// listens on the port, so every probe waiting is answered.
		for _, seq := range s.pending {
			if !s.probes[seq-1].decided && !s.decide(seq, false, 0, "ICMP port unreachable (nothing listens on that UDP port)") {
				return false
			}
		}
		return true
	}
	if r.seq < 1 || r.seq > len(s.probes) {
		return true // not one of ours
	}
	pr := &s.probes[r.seq-1]
	if !pr.decided {
		return s.decide(r.seq, r.ok, r.rtt, r.why)
	}
	if !r.ok {
		return true
	}
	label := s.target.String()
	switch {
	case pr.ok:
		s.stats.dup++
		if !s.o.JSON {
			s.u.Infof("%s: seq=%d time=%s (DUP!)", label, r.seq, formatMs(r.rtt))
		}
	case pr.timedOut:
		s.stats.late++
		if !s.o.JSON {
			s.u.Infof("%s: seq=%d late reply, time=%s", label, r.seq, formatMs(r.rtt))
		}
	}
	return true
}

// decide records the outcome of probe seq and prints its line; it returns
// false when stdout has closed.
func (s *pingSession) decide(seq int, ok bool, rtt time.Duration, why string) bool {
	pr := &s.probes[seq-1]
	pr.decided, pr.ok = true, ok
	s.stats.sent++
	note := ""
	if ok {
		s.stats.ok++
		s.stats.rtts = append(s.stats.rtts, rtt)
		if seq < s.maxOK && s.o.Mode == PingUDP { // concurrent handshakes may end in any order
			s.stats.reordered++
			note = " (out of order)"
		}
		s.maxOK = max(s.maxOK, seq)
	}
	if s.o.JSON {
		line := pingProbeJSON{Seq: seq, OK: ok}
		if ok {
			line.RTTms = optionalMs(rtt)
		} else {
			line.Error = &why
		}
		if err := writeJSONLine(s.o.Stdout, line); err != nil {
			s.stdoutClosed = errors.Is(err, errStdoutClosed)
			if !s.stdoutClosed {
				s.sessionErr = err
			}
			return false
		}
		return true
	}
	if ok {
		s.u.Infof("%s: seq=%d time=%s%s", s.target, seq, formatMs(rtt), note)
	} else {
		s.u.Infof("%s: seq=%d %s", s.target, seq, why)
	}
	return true
}

func (s *pingSession) reportSessionError() {
	var x transport.Explanation
	var pe *pingError
	if errors.As(s.sessionErr, &pe) {
		x = transport.Explanation{Msg: pe.msg, Hint: pe.hint}
	} else {
		x = transport.Explain(s.sessionErr)
	}
	s.u.Errorf("%s", x.Msg)
	if x.Hint != "" {
		s.u.Hintf("%s", x.Hint)
	}
}

// summary prints the statistics: ping(8)'s, plus percentiles.
func (s *pingSession) summary(addr netip.Addr) error {
	o, st := s.o, &s.stats
	loss := 0.0
	if st.sent > 0 {
		loss = float64(st.sent-st.ok) / float64(st.sent) * 100
	}
	elapsed := s.end.Sub(s.start)
	var mn, avg, mx, sd, p50, p90, p99 time.Duration
	if st.ok > 0 {
		mn, avg, mx, sd = rttStats(st.rtts)
		p50, p90, p99 = percentile(st.rtts, 50), percentile(st.rtts, 90), percentile(st.rtts, 99)
	}
	if o.JSON {
		sum := pingSummaryJSON{Type: "summary", Host: o.Host, Addr: addr.String(), Port: o.Port, Mode: o.Mode.String(),
			Sent: st.sent, OK: st.ok, LossPct: math.Round(loss*1000) / 1000, Duplicates: st.dup, Reordered: st.reordered,
			Late: st.late, ElapsedMs: ms(elapsed), Interrupted: s.interrupted}
		if st.ok > 0 {
			sum.MinMs, sum.AvgMs, sum.MaxMs, sum.StddevMs = msPtr(mn), msPtr(avg), msPtr(mx), msPtr(sd)
			sum.P50Ms, sum.P90Ms, sum.P99Ms = msPtr(p50), msPtr(p90), msPtr(p99)
		}
		return writeJSONLine(o.Stdout, sum)
	}
	u := s.u
	u.Infof("--- %s port %d ping statistics ---", o.Host, o.Port)
	line := fmt.Sprintf("%d probes sent, %d ok, %s loss", st.sent, st.ok, formatPct(loss))
	switch o.Mode {
	case PingUDP:
		line += fmt.Sprintf(", %d duplicates, %d reordered, %d late", st.dup, st.reordered, st.late)
	case PingEcho:
		line += fmt.Sprintf(", %d late", st.late)
	}
	u.Infof("%s, time %s", line, roundDuration(elapsed))
	if st.ok > 0 {
		f := func(ds ...time.Duration) string {
			parts := make([]string, len(ds))
			for i, d := range ds {
				parts[i] = strconv.FormatFloat(ms(d), 'f', 3, 64)
			}
			return strings.Join(parts, "/")
		}
		u.Infof("rtt min/avg/max/stddev = %s ms", f(mn, avg, mx, sd))
		u.Infof("rtt p50/p90/p99 = %s ms", f(p50, p90, p99))
	}
	return nil
}

// rttStats returns the minimum, mean, maximum and (population) standard
// deviation, which ping(8) calls mdev.
func rttStats(rtts []time.Duration) (mn, avg, mx, sd time.Duration) {
	mn, mx = slices.Min(rtts), slices.Max(rtts)
	var sum float64
	for _, d := range rtts {
		sum += float64(d)
	}
	mean := sum / float64(len(rtts))
	var sq float64
	for _, d := range rtts {
		sq += (float64(d) - mean) * (float64(d) - mean)
	}
	return mn, time.Duration(math.Round(mean)), mx, time.Duration(math.Round(math.Sqrt(sq / float64(len(rtts)))))
}

// percentile is the nearest-rank percentile: the smallest time that at
// least p% of the probes did not exceed. It is always a measured time.
func percentile(rtts []time.Duration, p float64) time.Duration {
	sorted := slices.Sorted(slices.Values(rtts))
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// pingError is a session failure worded by the pinger itself (an echo
// server that does not echo), not a network error for Explain.
type pingError struct{ msg, hint string }

func (e *pingError) Error() string { return e.msg }

// tcpPinger times handshakes. Each begins on the event loop's goroutine,
// at its time, and finishes there when the kernel answers at once (as on
// loopback); only a handshake still in progress is waited for in a
// goroutine of its own, so a slow probe never delays the next one.
type tcpPinger struct {
	ctx     context.Context
	target  netip.AddrPort
	opts    transport.ProbeOptions
	replies chan<- pingReply
	wg      sync.WaitGroup
}

func (p *tcpPinger) timed() bool { return false }

func (p *tcpPinger) send(seq int) *pingReply {
	res, wait, err := transport.StartProbeTCP(p.ctx, p.target, p.opts)
	if wait == nil {
		if err != nil && p.ctx.Err() != nil {
			return nil // the session is over: no outcome
		}
		r := handshakeReply(seq, res, err)
		return &r
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		res, err := wait()
		if err != nil && p.ctx.Err() != nil {
			return // the session is over
		}
		select {
		case p.replies <- handshakeReply(seq, res, err):
		case <-p.ctx.Done():
		}
	}()
	return nil
}

func handshakeReply(seq int, res transport.ProbeResult, err error) pingReply {
	r := pingReply{seq: seq}
	switch {
	case err != nil:
		r.why = transport.Explain(err).Msg
	case res.State == transport.Open:
		r.ok, r.rtt = true, res.RTT
	default:
		r.why = res.Why
	}
	return r
}

func (p *tcpPinger) close() { p.wg.Wait() }

// A probe frame is what UDP and echo probes carry, 28 bytes: a magic
// number, the session's random nonce (so stray datagrams are ignored),
// the sequence number and the send time in nanoseconds since the session
// began (monotonic).
const (
	frameMagic = 0x736e6450 // "sndP"
	frameLen   = 28
)

type frameCodec struct {
	nonce uint64
	base  time.Time
}

func (f *frameCodec) encode(seq int) []byte {
	b := make([]byte, frameLen)
	binary.BigEndian.PutUint32(b[0:], frameMagic)
	binary.BigEndian.PutUint64(b[4:], f.nonce)
	binary.BigEndian.PutUint64(b[12:], uint64(seq))
	binary.BigEndian.PutUint64(b[20:], uint64(time.Since(f.base)))
	return b
}

// decode checks a frame and returns its sequence number and round trip.
func (f *frameCodec) decode(b []byte) (seq int, rtt time.Duration, ok bool) {
	if len(b) != frameLen || binary.BigEndian.Uint32(b[0:]) != frameMagic || binary.BigEndian.Uint64(b[4:]) != f.nonce {
		return 0, 0, false
	}
	seq64 := binary.BigEndian.Uint64(b[12:])
	sent := time.Duration(binary.BigEndian.Uint64(b[20:]))
	rtt = time.Since(f.base) - sent
	if seq64 < 1 || seq64 > math.MaxInt32 || sent < 0 || rtt < 0 {
		return 0, 0, false
	}
	return int(seq64), rtt, true
}

func newFrameCodec() frameCodec {
	return frameCodec{nonce: rand.Uint64(), base: time.Now()}
}

// datagramPinger sends a frame per probe on one connected UDP socket; a
// goroutine reads what comes back.
type datagramPinger struct{ frameConn }

// frameConn is what the UDP and the --echo pinger share: one connection
// that carries the probe frames both ways, and the goroutine (receive)
// that reads the replies and reports them until close.
type frameConn struct {
	conn    net.Conn
	codec   frameCodec
	replies chan<- pingReply
	done    chan struct{} // closed when receive has returned
	stop    chan struct{} // closed by close
}

func newFrameConn(conn net.Conn, replies chan<- pingReply) frameConn {
	return frameConn{conn: conn, codec: newFrameCodec(), replies: replies, done: make(chan struct{}), stop: make(chan struct{})}
}

// report hands a reply to the ping loop. It tells whether receive should
// go on: not once close was called, nor after an error, which ends the
// ping.
func (p *frameConn) report(r pingReply) bool {
	select {
	case p.replies <- r:
	case <-p.stop:
		return false
	}
	return r.err == nil
}

func (p *frameConn) close() {
	close(p.stop)
	p.conn.Close()
	<-p.done
}

func newDatagramPinger(target netip.AddrPort, src netip.Addr, replies chan<- pingReply) (*datagramPinger, error) {
	var laddr *net.UDPAddr
	if src.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	var conn *net.UDPConn
	var err error
	// A socket given the target's own port (on loopback) would receive
	// its own datagrams and pass for an echo server: take another.
	for range 3 {
		if conn, err = net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(target)); err != nil {
			return nil, &transport.DialError{Network: "udp", Target: target.String(), Attempts: []transport.Attempt{{Addr: target.String(), Err: err}}}
		}
		if !transport.IsSelfConnect(conn) {
			break
		}
		conn.Close()
		conn = nil
	}
	if conn == nil {
		return nil, &pingError{msg: "cannot ping " + target.String() + ": every local port sonde got was that port itself"}
	}
	p := &datagramPinger{newFrameConn(conn, replies)}
	go p.receive()
	return p, nil
}

func (p *datagramPinger) timed() bool { return true }

func (p *datagramPinger) send(seq int) *pingReply {
	if _, err := p.conn.Write(p.codec.encode(seq)); err != nil {
		if transport.IsPortUnreachable(err) {
			return &pingReply{seq: seq, why: "ICMP port unreachable (nothing listens on that UDP port)"}
		}
		return &pingReply{seq: seq, why: transport.Explain(err).Msg}
	}
	return nil
}

func (p *datagramPinger) receive() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, err := p.conn.Read(buf)
		var r pingReply
		switch {
		case err == nil:
			seq, rtt, ok := p.codec.decode(buf[:n])
			if !ok {
				continue // not an echo of one of our probes
			}
			r = pingReply{seq: seq, ok: true, rtt: rtt}
		case transport.IsPortUnreachable(err):
			r = pingReply{refused: true}
		case errors.Is(err, net.ErrClosed):
			return
		default:
			r = pingReply{err: &transport.StreamError{Peer: p.conn.RemoteAddr().String(), Network: "udp", Err: err}}
		}
		if !p.report(r) {
			return
		}
	}
}

// echoPinger writes a frame per probe on one TCP connection and reads the
// frames back in order; frames of probes already timed out come back late.
type echoPinger struct{ frameConn }

func newEchoPinger(ctx context.Context, target netip.AddrPort, src netip.Addr, timeout time.Duration, replies chan<- pingReply, u *ui.UI) (*echoPinger, error) {
	dopts := transport.DialOptions{Network: "tcp", Numeric: true, Timeout: timeout}
	if src.IsValid() {
		dopts.Source = src.String()
	}
	t := transport.Target{Host: target.Addr().String(), Port: strconv.Itoa(int(target.Port()))}
	start := time.Now()
	conn, err := transport.Dial(ctx, t, dopts)
	if err != nil {
		return nil, err
	}
	if transport.IsSelfConnect(conn) {
		conn.Close()
		return nil, &pingError{msg: "cannot connect to " + target.String() + ": nothing listens (the connection reached itself)",
			hint: "start an echo server there, e.g. sonde echo " + strconv.Itoa(int(target.Port()))}
	}
	u.Verbosef(1, "connected to %s in %s; probes go over this one connection", conn.RemoteAddr(), roundDuration(time.Since(start)))
	p := &echoPinger{newFrameConn(conn, replies)}
	go p.receive()
	return p, nil
}

func (p *echoPinger) timed() bool { return true }

func (p *echoPinger) send(seq int) *pingReply {
	if _, err := p.conn.Write(p.codec.encode(seq)); err != nil {
		return &pingReply{err: &transport.StreamError{Peer: p.conn.RemoteAddr().String(), Network: "tcp", Err: err}}
	}
	return nil
}

func (p *echoPinger) receive() {
	defer close(p.done)
	peer := p.conn.RemoteAddr().String()
	frame := make([]byte, frameLen)
	for {
		var r pingReply
		_, err := io.ReadFull(p.conn, frame)
		switch {
		case errors.Is(err, net.ErrClosed):
			return
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			r.err = &pingError{msg: "the echo server " + peer + " closed the connection",
				hint: "the server stopped, or closes idle or unknown clients"}
		case err != nil:
			r.err = &transport.StreamError{Peer: peer, Network: "tcp", Err: err}
		default:
			seq, rtt, ok := p.codec.decode(frame)
			if !ok {
				r.err = &pingError{msg: fmt.Sprintf("%s does not echo: it sent %q, not the probe", peer, frame),
					hint: "--echo needs an echo server (RFC 862; sonde echo PORT runs one); without --echo, sonde ping times TCP handshakes"}
			} else {
				r = pingReply{seq: seq, ok: true, rtt: rtt}
			}
		}
		if !p.report(r) {
			return
		}
	}
}
