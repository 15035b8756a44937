package modes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
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
	Target   transport.Endpoint
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
	s := &pingSession{o: o, u: o.UI, timeout: cmp.Or(o.Timeout, DefaultProbeTimeout), replies: make(chan pingReply, 64),
		stats: pingStats{rtt: newRTTStats()}}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.setUp(ctx, pctx); err != nil {
		if o.JSON && !errors.Is(err, errStdoutClosed) {
			s.summary(failure(err)) // a closed stdout leaves nothing to tell
		}
		return quietIfClosed(err)
	}
	s.run(ctx, cmp.Or(o.Interval, DefaultPingInterval))
	cancel()
	s.p.close()

	var why string
	switch {
	case s.interrupted:
		why = failure(context.Cause(ctx))
	case s.sessionErr != nil:
		why = s.reportSessionError()
	case s.stats.ok == 0:
		why = fmt.Sprintf("no probe to %s succeeded", s.target)
	}
	if err := s.summary(why); errors.Is(err, errStdoutClosed) {
		return nil
	}
	if why != "" && !s.interrupted && s.sessionErr == nil {
		// The report (stdout) may be out of sight: the failure is said
		// where every failure is, after the summary.
		s.u.Errorf("%s", why)
	}
	switch {
	case s.interrupted:
		return context.Cause(ctx)
	case s.stdoutClosed:
		return nil
	case why != "":
		return &ExitStatus{Code: 1}
	}
	return nil
}

// setUp resolves the name, picks the address, starts the pinger (whose
// probes end with pctx) and prints the header.
func (s *pingSession) setUp(ctx, pctx context.Context) error {
	o := s.o
	addrs, src, err := resolveAll(ctx, o.Target.Host, o.Target.Source, o.Target.Family, o.Target.Numeric, o.Timeout)
	if err != nil {
		return err
	}
	if src.IsValid() { // a source that cannot be bound is said once, not on every probe
		if err := transport.CheckSource("tcp", src); err != nil {
			return err
		}
	}
	addr, note, err := pickAddr(ctx, o, addrs, src, s.timeout)
	if err != nil {
		return err
	}
	s.target = netip.AddrPortFrom(addr, uint16(o.Target.Port))
	switch o.Mode {
	case PingTCP:
		s.p = &tcpPinger{ctx: pctx, target: s.target, opts: transport.ProbeOptions{Source: src, Timeout: s.timeout}, replies: s.replies}
	case PingUDP:
		s.p, err = newDatagramPinger(s.target, src, s.replies)
	case PingEcho:
		s.p, err = newEchoPinger(ctx, s.target, src, s.timeout, s.replies, s.u)
	}
	if err != nil {
		return err
	}
	what := map[PingMode]string{PingTCP: "TCP handshake", PingUDP: "UDP echo", PingEcho: "TCP echo over one connection"}[o.Mode]
	if !o.JSON {
		err := writeLine(o.Stdout, "PING %s port %d: %s every %s%s", hostAndAddr(o.Target.Host, addr), o.Target.Port, what,
			cmp.Or(o.Interval, DefaultPingInterval), note)
		if err != nil {
			s.p.close()
			return err
		}
	}
	if o.OnReady != nil {
		o.OnReady(net.TCPAddrFromAddrPort(s.target))
	}
	return nil
}

// PingNotStarted ends ping --json with its summary, whose error says why
// the ping could not start (a mistake in the command line, found before
// Ping was called), so that a reader of the JSON is never left without
// one. It returns err.
func PingNotStarted(o *PingOptions, err error) error {
	if o.JSON {
		(&pingSession{o: o}).summary(failure(err))
	}
	return err
}

// failure words an error for the "error" field of a --json summary.
func failure(err error) string {
	if isInterrupted(err) {
		return "interrupted"
	}
	return transport.Explain(err).Msg
}

// pickAddr chooses the address of the name to ping: the first that
// answers a probe (a handshake; a datagram with --udp), so that a
// dual-stack name whose service listens on one family only is pinged
// where it listens. note names the others, for the header; with none
// answering, the first address is pinged, and its probes say why.
func pickAddr(ctx context.Context, o *PingOptions, addrs []netip.Addr, src netip.Addr, timeout time.Duration) (addr netip.Addr, note string, err error) {
	if len(addrs) == 1 {
		return addrs[0], "", nil
	}
	probe := transport.ProbeTCP
	if o.Mode == PingUDP {
		probe = transport.ProbeUDP
	}
	var failed []string
	for i, a := range addrs {
		res, err := probe(ctx, netip.AddrPortFrom(a, uint16(o.Target.Port)), transport.ProbeOptions{Source: src, Timeout: timeout})
		if err != nil {
			return addr, "", err
		}
		if res.State == transport.Open && i == 0 {
			others := make([]string, len(addrs)-1)
			for j, b := range addrs[1:] {
				others[j] = b.String()
			}
			return a, fmt.Sprintf(" (%s answered; also %s, not used)", a, strings.Join(others, ", ")), nil
		}
		if res.State == transport.Open {
			return a, fmt.Sprintf(" (%s, using %s)", strings.Join(failed, ", "), a), nil
		}
		why := res.Why
		if why == "connection refused" {
			why = "refused"
		}
		failed = append(failed, a.String()+" "+why)
	}
	return addrs[0], fmt.Sprintf(" (no address answered: %s; using %s)", strings.Join(failed, ", "), addrs[0]), nil
}

// pingProbe is the record of one probe.
type pingProbe struct {
	sent     time.Time
	decided  bool
	ok       bool
	timedOut bool
}

type pingSession struct {
	o       *PingOptions
	u       *ui.UI
	p       pinger
	target  netip.AddrPort // invalid until setUp has picked the address
	timeout time.Duration
	replies chan pingReply

	// probes are the records of the probes still remembered, from
	// sequence number first on: probes[seq-first]. A decided probe is
	// forgotten once it is twice the timeout old, so that memory stays
	// flat however long the ping runs.
	probes       []pingProbe
	first        int
	started      int   // probes sent so far: the last sequence number
	pending      []int // sequence numbers awaiting an outcome, oldest first
	maxOK        int   // highest sequence number answered so far
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
		if o.Count == 0 || s.started < o.Count {
			sendC = sendTimer.C
		}
		s.dropDecided()
		if s.p.timed() && len(s.pending) > 0 {
			deadTimer.Reset(time.Until(s.probe(s.pending[0]).sent.Add(s.timeout)))
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
			s.started++
			seq := s.started
			s.forget()
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
			// Replies already read are taken first: one read in time
			// but queued behind the deadline (this loop ran late) is no
			// timeout. handle judges each by its round trip.
		drain:
			for range cap(s.replies) {
				select {
				case r := <-s.replies:
					if !s.handle(r) {
						return
					}
				default:
					break drain
				}
			}
			for _, seq := range s.pending {
				pr := s.probe(seq)
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
	for i < len(s.pending) && s.probe(s.pending[i]).decided {
		i++
	}
	s.pending = s.pending[i:]
}

// probe is the record of probe seq, or nil when there is none: a
// sequence number never sent, or a probe forgotten.
func (s *pingSession) probe(seq int) *pingProbe {
	if seq < s.first || seq > s.started {
		return nil
	}
	return &s.probes[seq-s.first]
}

// forget drops the records of decided probes that are more than twice
// the timeout old; the ones before a probe still waiting are kept.
func (s *pingSession) forget() {
	if len(s.probes) == 0 {
		s.first = s.started // the next one sent
		return
	}
	old := time.Now().Add(-2 * s.timeout)
	i := 0
	for i < len(s.probes) && s.probes[i].decided && s.probes[i].sent.Before(old) {
		i++
	}
	s.probes = s.probes[i:]
	s.first += i
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
			if !s.probe(seq).decided && !s.decide(seq, false, 0, "ICMP port unreachable (nothing listens on that UDP port)") {
				return false
			}
		}
		return true
	}
	pr := s.probe(r.seq)
	if pr == nil && r.ok && r.seq >= 1 && r.seq < s.first {
		// A reply to a probe forgotten: it was decided more than twice
		// the timeout ago, so the reply is late, whatever it was.
		pr = &pingProbe{decided: true, timedOut: true}
	}
	if pr == nil {
		return true // not one of ours
	}
	if !pr.decided {
		if !r.ok || !s.p.timed() || r.rtt <= s.timeout {
			return s.decide(r.seq, r.ok, r.rtt, r.why)
		}
		// Its round trip is past the timeout: the probe timed out, and
		// this reply is late, though this loop (run late on a loaded
		// machine) had not yet seen the deadline.
		pr.timedOut = true
		if !s.decide(r.seq, false, 0, "no reply within "+s.timeout.String()) {
			return false
		}
	}
	if !r.ok {
		return true
	}
	switch {
	case pr.ok:
		s.stats.dup++
		return s.o.JSON || s.printf("%s: seq=%d time=%s (DUP!)", s.target, r.seq, formatMs(r.rtt))
	case pr.timedOut:
		s.stats.late++
		return s.o.JSON || s.printf("%s: seq=%d late reply, time=%s", s.target, r.seq, formatMs(r.rtt))
	}
	return true
}

// decide records the outcome of probe seq and prints its line; it returns
// false when stdout has closed.
func (s *pingSession) decide(seq int, ok bool, rtt time.Duration, why string) bool {
	pr := s.probe(seq)
	pr.decided, pr.ok = true, ok
	s.stats.sent++
	note := ""
	if ok {
		s.stats.ok++
		s.stats.rtt.record(rtt)
		if seq < s.maxOK && s.o.Mode == PingUDP { // concurrent handshakes may end in any order
			s.stats.reordered++
			note = " (out of order)"
		}
		s.maxOK = max(s.maxOK, seq)
	}
	if s.o.JSON {
		line := pingProbeJSON{Type: "probe", Seq: seq, OK: ok}
		if ok {
			line.RTTms = optionalMs(rtt)
		} else {
			line.Error = &why
		}
		return s.wrote(writeJSONLine(s.o.Stdout, line))
	}
	if ok {
		return s.printf("%s: seq=%d time=%s%s", s.target, seq, formatMs(rtt), note)
	}
	return s.printf("%s: seq=%d %s", s.target, seq, why)
}

// printf writes a line of the report to stdout; it returns false when
// the session must end.
func (s *pingSession) printf(format string, args ...any) bool {
	return s.wrote(writeLine(s.o.Stdout, format, args...))
}

// wrote takes the outcome of a write to stdout: a reader that went away
// ends the session quietly, another failure with an error.
func (s *pingSession) wrote(err error) bool {
	if err == nil {
		return true
	}
	s.stdoutClosed = errors.Is(err, errStdoutClosed)
	if !s.stdoutClosed {
		s.sessionErr = err
	}
	return false
}

// reportSessionError says why the session broke, and returns the message.
func (s *pingSession) reportSessionError() string {
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
	return x.Msg
}

// pingError is a session failure worded by the pinger itself (an echo
// server that does not echo), not a network error for Explain.
type pingError struct{ msg, hint string }

func (e *pingError) Error() string { return e.msg }
