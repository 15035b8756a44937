package modes

// What sonde trace reports: a row per hop, as traceroute prints them,
// then the verdict; or their JSON lines. Rows are written by a goroutine
// of their own, so that waiting for the name of a hop never holds up the
// probes.

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// The verdicts of a trace.
const (
	verdictReached  = "reached"  // the target answered: the port is open or closed
	verdictStopped  = "stopped"  // silence after the last hop that answered
	verdictRejected = "rejected" // a hop answered with an ICMP error other than time exceeded
	verdictMaxHops  = "max_hops" // hop -m still forwarded the probes
)

// traceVerdict is how a trace ended, and the hop that says so.
type traceVerdict struct {
	kind  string
	hop   int        // the hop it names; 0 when none answered
	addr  netip.Addr // that hop's address
	state string     // reached: "open" or "closed"
	icmp  string     // rejected: the refusal, e.g. "admin prohibited (ICMP 3/13)"
	text  string     // the line that ends the text report
}

type traceHopJSON struct {
	Type     string     `json:"type"` // "hop"
	TTL      int        `json:"ttl"`
	Addr     *string    `json:"addr"`  // the first address that answered; null when none did
	Name     *string    `json:"name"`  // its name; null with -n or when it has none
	Addrs    []string   `json:"addrs"` // every address that answered, in probe order
	RTTms    []*float64 `json:"rtt_ms"`
	ICMP     *string    `json:"icmp"` // "time exceeded", "admin prohibited", ...; null without an ICMP answer
	ICMPType *int       `json:"icmp_type"`
	ICMPCode *int       `json:"icmp_code"`
	State    *string    `json:"state"` // "open" or "closed" when the target answered
}

type traceHopRefJSON struct {
	Hop  int     `json:"hop"`
	Addr string  `json:"addr"`
	Name *string `json:"name"`
}

type traceSummaryJSON struct {
	Type        string           `json:"type"` // "summary"
	Host        string           `json:"host"`
	Addr        *string          `json:"addr"` // the target's address; null when unresolved
	Port        int              `json:"port"`
	Proto       string           `json:"proto"`
	Reached     bool             `json:"reached"`
	State       *string          `json:"state"`    // "open" or "closed" when reached
	LastHop     *traceHopRefJSON `json:"last_hop"` // the hop the verdict names
	Verdict     *string          `json:"verdict"`  // reached, stopped, rejected or max_hops; null on failure
	ICMP        *string          `json:"icmp"`     // the refusal, when rejected
	Text        *string          `json:"text"`     // the verdict line of the text report
	Hops        int              `json:"hops"`     // hops reported
	ElapsedMs   float64          `json:"elapsed_ms"`
	Interrupted bool             `json:"interrupted"`
	Error       *string          `json:"error"` // what main says on stderr; null on success
}

// traceReport writes the report of one trace.
type traceReport struct {
	o     *TraceOptions
	addr  netip.Addr // the target, once resolved
	start time.Time
	names *hopNames
	rows  chan *traceHop
	done  chan error // the printer's end
	hops  int        // hops written
}

func newTraceReport(o *TraceOptions) *traceReport {
	return &traceReport{o: o, start: time.Now()}
}

func (r *traceReport) maxHops() int { return cmp.Or(r.o.MaxHops, DefaultTraceMaxHops) }

// header opens the text report.
func (r *traceReport) header() error {
	if r.o.JSON {
		return nil
	}
	probes, timeout := cmp.Or(r.o.Probes, DefaultTraceProbes), cmp.Or(r.o.Timeout, DefaultProbeTimeout)
	return writeReport(r.o.Stdout, fmt.Appendf(nil, "trace to %s port %d/%s: up to %d hops, %s per hop, %s each\n",
		hostAndAddr(r.o.Target.Host, r.addr), r.o.Target.Port, r.o.Network, r.maxHops(), plural(int64(probes), "probe"), timeout))
}

// startPrinter starts the goroutine that writes the rows handed to hop;
// a failed write is passed to failed, which stops the trace.
func (r *traceReport) startPrinter(failed func(error)) {
	r.rows = make(chan *traceHop, r.maxHops())
	r.done = make(chan error, 1)
	go func() {
		var err error
		var silent []*traceHop // held back: the tail of a text report may be silent
		write := func(h *traceHop) {
			if err == nil {
				if err = r.writeHop(h); err != nil {
					failed(err)
				}
			}
		}
		for h := range r.rows {
			if h.kind == hopSilent && !r.o.JSON && r.o.UI.Verbosity() < 1 {
				silent = append(silent, h)
				continue
			}
			for _, s := range silent {
				write(s)
			}
			silent = silent[:0]
			write(h)
		}
		switch {
		case len(silent) == 1:
			write(silent[0])
		case len(silent) > 1 && err == nil:
			// A silent tail in one line (-v lists each hop).
			r.hops += len(silent)
			err = writeReport(r.o.Stdout, fmt.Appendf(nil, "%2d-%d  no answer\n", silent[0].ttl, silent[len(silent)-1].ttl))
		}
		r.done <- err
	}()
}

// hop hands a complete hop to the printer.
func (r *traceReport) hop(h *traceHop) { r.rows <- h }

// stopPrinter waits until every row handed over is written.
func (r *traceReport) stopPrinter() error {
	close(r.rows)
	return <-r.done
}

func (r *traceReport) writeHop(h *traceHop) error {
	r.hops++
	if !r.o.JSON {
		return writeReport(r.o.Stdout, []byte(r.row(h)))
	}
	j := traceHopJSON{Type: "hop", TTL: h.ttl, Addrs: []string{}, RTTms: make([]*float64, len(h.results))}
	if a := h.answered(); a.IsValid() {
		s := a.String()
		j.Addr, j.Name = &s, r.names.name(a)
	}
	for i, res := range h.results {
		j.RTTms[i] = optionalMs(res.RTT)
		if res.From.IsValid() && !slices.Contains(j.Addrs, res.From.String()) {
			j.Addrs = append(j.Addrs, res.From.String())
		}
	}
	if h.main.Answer == transport.TraceICMP {
		s, t, c := h.main.ICMP.String(), int(h.main.ICMP.Type), int(h.main.ICMP.Code)
		j.ICMP, j.ICMPType, j.ICMPCode = &s, &t, &c
	}
	if s := hopState(h); s != "" {
		j.State = &s
	}
	return writeJSONLine(r.o.Stdout, j)
}

// row is a hop as traceroute prints it: the TTL, each address that
// answered followed by the times of its probes (* for silence), then
// what the answer was.
func (r *traceReport) row(h *traceHop) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%2d", h.ttl)
	var shown netip.Addr
	for _, res := range h.results {
		if !res.From.IsValid() {
			b.WriteString("  *")
			continue
		}
		if res.From != shown {
			shown = res.From
			b.WriteString("  " + r.names.label(shown))
		}
		b.WriteString("  " + formatMs(res.RTT))
	}
	if h.kind != hopSilent {
		b.WriteString("  " + r.describe(h))
	}
	b.WriteByte('\n')
	return b.String()
}

// describe says what a hop answered: "time exceeded", "open (SYN-ACK)",
// "admin prohibited (ICMP 3/13)".
func (r *traceReport) describe(h *traceHop) string {
	m := h.main.ICMP
	switch h.kind {
	case hopOpen:
		if r.o.Network == "udp" {
			return "open (reply)"
		}
		return "open (SYN-ACK)"
	case hopClosed:
		if h.main.Answer == transport.TraceClosed {
			return "closed (RST)"
		}
		return "closed (" + m.String() + ", " + m.Label() + ")"
	case hopRejected:
		return m.String() + " (" + m.Label() + ")"
	}
	return m.String()
}

// hopState is "open" or "closed" for the target's answer, else "".
func hopState(h *traceHop) string {
	switch h.kind {
	case hopOpen:
		return string(transport.Open)
	case hopClosed:
		return string(transport.Closed)
	}
	return ""
}

// verdict reads how the trace ended from its hops: the last one reached
// the target, or refused the probes, or the probes went silent after the
// last hop that answered.
func (r *traceReport) verdict(hops []*traceHop) traceVerdict {
	var last *traceHop // the last hop that answered
	for _, h := range hops {
		if h.kind != hopSilent {
			last = h
		}
	}
	switch {
	case last == nil:
		return traceVerdict{kind: verdictStopped,
			text: fmt.Sprintf("stopped: no hop answered (%s probed)", plural(int64(len(hops)), "hop"))}
	case last.kind >= hopClosed:
		state := hopState(last)
		return traceVerdict{kind: verdictReached, hop: last.ttl, addr: last.main.From, state: state,
			text: fmt.Sprintf("reached %s port %d (%s) in %s", hostAndAddr(r.o.Target.Host, r.addr), r.o.Target.Port,
				state, plural(int64(last.ttl), "hop"))}
	case last.kind == hopRejected:
		// The router that refuses has usually let an earlier TTL run out
		// first (the TTL is checked before the firewall): name it by the
		// hop where it first answered.
		from, n := last.main.From, last.ttl
		for _, h := range hops {
			if hasAnswerFrom(h, from) {
				n = h.ttl
				break
			}
		}
		icmp := r.describe(last)
		return traceVerdict{kind: verdictRejected, hop: n, addr: from, icmp: icmp,
			text: fmt.Sprintf("rejected at hop %d (%s): %s", n, r.names.verdictLabel(from), icmp)}
	case last.ttl == r.maxHops():
		return traceVerdict{kind: verdictMaxHops, hop: last.ttl, addr: last.answered(),
			text: fmt.Sprintf("not reached in %d hops: hop %d (%s) still forwards the probes (raise -m)",
				last.ttl, last.ttl, r.names.verdictLabel(last.answered()))}
	}
	return traceVerdict{kind: verdictStopped, hop: last.ttl, addr: last.answered(),
		text: fmt.Sprintf("stopped: no answer after hop %d (%s)", last.ttl, r.names.verdictLabel(last.answered()))}
}

func hasAnswerFrom(h *traceHop, from netip.Addr) bool {
	for _, res := range h.results {
		if res.From == from {
			return true
		}
	}
	return false
}

// end writes the verdict: the last line of the text report, or the
// summary object.
func (r *traceReport) end(v traceVerdict) error {
	if !r.o.JSON {
		if v.kind == verdictStopped && r.o.Network == "udp" {
			defer r.o.UI.Hintf("an open UDP port that ignores an empty datagram is silent too: the probes may have arrived")
		}
		return writeReport(r.o.Stdout, []byte(v.text+"\n"))
	}
	sum := r.summary()
	sum.Reached = v.kind == verdictReached
	sum.Verdict, sum.Text = &v.kind, &v.text
	if v.state != "" {
		sum.State = &v.state
	}
	if v.icmp != "" {
		sum.ICMP = &v.icmp
	}
	if v.hop > 0 {
		sum.LastHop = &traceHopRefJSON{Hop: v.hop, Addr: v.addr.String(), Name: r.names.name(v.addr)}
	}
	return writeJSONLine(r.o.Stdout, sum)
}

func (r *traceReport) summary() traceSummaryJSON {
	sum := traceSummaryJSON{Type: "summary", Host: r.o.Target.Host, Port: r.o.Target.Port, Proto: r.o.Network,
		Hops: r.hops, ElapsedMs: ms(time.Since(r.start))}
	if r.addr.IsValid() {
		s := r.addr.String()
		sum.Addr = &s
	}
	return sum
}

// fail ends a trace that could not finish: with --json, a summary that
// says why. It returns err.
func (r *traceReport) fail(ctx context.Context, err error) error {
	if r.o.JSON {
		sum := r.summary()
		sum.Interrupted = context.Cause(ctx) != nil
		msg := transport.Explain(err).Msg
		sum.Error = &msg
		writeJSONLine(r.o.Stdout, sum)
	}
	return err
}

// hopNames looks up the names of the hops' addresses, each once, in the
// background, each lookup bounded by the probe timeout. Nothing is
// looked up with -n.
type hopNames struct {
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	lookup  func(context.Context, string) ([]string, error)
	wg      sync.WaitGroup
	mu      sync.Mutex
	byAddr  map[netip.Addr]*hopName
}

type hopName struct {
	done chan struct{}
	name string // "" when none was found in time
}

func newHopNames(ctx context.Context, o *TraceOptions, timeout time.Duration) *hopNames {
	if o.Target.Numeric {
		return nil
	}
	lookup := o.lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupAddr
	}
	n := &hopNames{timeout: timeout, lookup: lookup, byAddr: make(map[netip.Addr]*hopName)}
	n.ctx, n.cancel = context.WithCancel(ctx)
	return n
}

// start looks addr up, unless it is being or has been already.
func (n *hopNames) start(addr netip.Addr) {
	if n == nil || !addr.IsValid() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr[addr] != nil {
		return
	}
	h := &hopName{done: make(chan struct{})}
	n.byAddr[addr] = h
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(h.done)
		ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
		defer cancel()
		if names, err := n.lookup(ctx, addr.String()); err == nil && len(names) > 0 {
			h.name = strings.TrimSuffix(names[0], ".")
		}
	}()
}

// name waits for the lookup of addr, and returns the name found (nil for none).
func (n *hopNames) name(addr netip.Addr) *string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	h := n.byAddr[addr]
	n.mu.Unlock()
	if h == nil {
		return nil
	}
	<-h.done
	if h.name == "" {
		return nil
	}
	return &h.name
}

// label is addr as a row shows it: "name (addr)", or the address alone.
func (n *hopNames) label(addr netip.Addr) string {
	if name := n.name(addr); name != nil {
		return *name + " (" + addr.String() + ")"
	}
	return addr.String()
}

// verdictLabel is addr as the verdict names it: "name, addr", or the
// address alone.
func (n *hopNames) verdictLabel(addr netip.Addr) string {
	if name := n.name(addr); name != nil {
		return *name + ", " + addr.String()
	}
	return addr.String()
}

// stop ends the lookups still running and waits for them.
func (n *hopNames) stop() {
	if n == nil {
		return
	}
	n.cancel()
	n.wg.Wait()
}
