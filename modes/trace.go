package modes

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultTraceMaxHops is the highest TTL trace tries unless -m says.
const DefaultTraceMaxHops = 30

// DefaultTraceProbes is how many probes trace sends with each TTL
// unless --probes says.
const DefaultTraceProbes = 3

// traceStagger is the pause between the starts of two TTLs. Every TTL
// is in flight at once, as in mtr, so a path whose tail is silent takes
// about one timeout, not one per hop; the small stagger lets the answer
// of the target (or a refusal) stop the TTLs above it before they are
// sent, so a short path does not shower the target with probes.
const traceStagger = 10 * time.Millisecond

// TraceOptions configure sonde trace, which sends probes toward a port
// with increasing TTL and reports the hop where they stop.
type TraceOptions struct {
	Target  transport.Endpoint // Numeric also turns off the names of hops
	Network string             // "tcp" (SYNs) or "udp" (empty datagrams)
	MaxHops int                // -m: the highest TTL; 0 for DefaultTraceMaxHops
	Probes  int                // --probes: probes per TTL; 0 for DefaultTraceProbes
	Timeout time.Duration      // -w: per probe, and per name lookup; 0 for DefaultProbeTimeout
	JSON    bool               // --json: one object per hop and a summary on Stdout

	Stdout io.Writer
	UI     *ui.UI

	// probe and lookup replace the network in tests.
	probe  func(context.Context, string, netip.AddrPort, transport.TraceProbeOptions) (transport.TraceResult, error)
	lookup func(context.Context, string) ([]string, error)
}

// traceOutcome is what probe n of a TTL found, or why it could not be made.
type traceOutcome struct {
	ttl, n int
	res    transport.TraceResult
	err    error
}

// Trace probes the path to o.Target with every TTL up to o.MaxHops,
// reports each hop in TTL order on Stdout, and ends with a verdict: the
// target was reached (nil), or the probes stopped or were rejected on
// the way (*ExitStatus 1). With --json the last object is always a
// summary, with an error when the trace failed.
func Trace(ctx context.Context, o *TraceOptions) error {
	r := newTraceReport(o)
	if err := transport.CheckTrace(o.Network); err != nil {
		return r.fail(ctx, err)
	}
	addr, src, err := resolveOnce(ctx, o.Target, o.UI)
	if err != nil {
		return r.fail(ctx, err)
	}
	r.addr = addr
	r.names = newHopNames(ctx, o, cmp.Or(o.Timeout, DefaultProbeTimeout))
	defer r.names.stop()
	if err := r.header(); err != nil {
		return quietIfClosed(err)
	}
	hops, err := traceHops(ctx, o, netip.AddrPortFrom(addr, uint16(o.Target.Port)), src, r)
	if err != nil {
		if errors.Is(err, errStdoutClosed) {
			return nil // the reader of the report went away: like cat, a quiet end
		}
		return r.fail(ctx, err)
	}
	v := r.verdict(hops)
	if err := r.end(v); err != nil {
		return quietIfClosed(err)
	}
	if v.kind != verdictReached {
		return &ExitStatus{Code: 1}
	}
	return nil
}

// TraceFailed ends the --json output of a trace that could not start (a
// bad flag value) with a summary that says why, and returns err.
func TraceFailed(o *TraceOptions, err error) error {
	return newTraceReport(o).fail(context.Background(), err)
}

// traceHops sends o.Probes probes with each TTL from 1 up, traceStagger
// apart, and hands each hop to the report once it and every hop below it
// are complete. The first TTL whose probes reach the target or are
// refused is the last: TTLs above it are not sent, or cancelled. It
// returns the hops up to that one (or up to o.MaxHops).
func traceHops(ctx context.Context, o *TraceOptions, dst netip.AddrPort, src netip.Addr, r *traceReport) ([]*traceHop, error) {
	maxHops := cmp.Or(o.MaxHops, DefaultTraceMaxHops)
	probes := cmp.Or(o.Probes, DefaultTraceProbes)
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	probe := o.probe
	if probe == nil {
		probe = transport.TraceProbe
	}

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.startPrinter(cancel)

	hops := make([]*traceHop, maxHops+1) // by TTL; hops[0] unused
	cancels := make([]context.CancelFunc, maxHops+1)
	outcomes := make(chan traceOutcome, maxHops*probes)
	limit := maxHops // the last TTL that matters
	launched := 0    // TTLs sent so far
	inFlight := 0    // probes not yet back
	next := 1        // the first hop not yet reported
	var failed error // why the trace cannot go on
	launch := time.NewTimer(0)
	defer launch.Stop()
	interrupted := ctx.Done()
	for inFlight > 0 || launched < limit && failed == nil {
		var launchC <-chan time.Time
		if launched < limit && failed == nil {
			launchC = launch.C
		}
		select {
		case <-launchC:
			launched++
			ttl := launched
			hops[ttl] = &traceHop{ttl: ttl, results: make([]transport.TraceResult, probes)}
			pctx, pcancel := context.WithCancel(sctx)
			cancels[ttl] = pcancel
			popts := transport.TraceProbeOptions{Source: src, TTL: ttl, Timeout: timeout}
			for n := range probes {
				inFlight++
				go func() {
					res, err := probe(pctx, o.Network, dst, popts)
					outcomes <- traceOutcome{ttl, n, res, err}
				}()
			}
			launch.Reset(traceStagger)
		case oc := <-outcomes:
			inFlight--
			if oc.ttl > limit || failed != nil {
				continue // cancelled, or beyond the target: not reported
			}
			if oc.err != nil {
				failed = oc.err
				cancel(oc.err)
				continue
			}
			h := hops[oc.ttl]
			h.add(oc.n, oc.res, dst.Addr())
			r.names.start(oc.res.From)
			if h.kind >= hopRejected && oc.ttl < limit {
				limit = oc.ttl
				for t := limit + 1; t <= launched; t++ {
					cancels[t]()
				}
			}
			for ; next <= limit && next <= launched && hops[next].complete(); next++ {
				r.hop(hops[next])
			}
		case <-interrupted:
			interrupted = nil
			if failed == nil {
				failed = context.Cause(ctx)
			}
			cancel(failed)
		}
	}
	for _, c := range cancels[1:] {
		if c != nil {
			c()
		}
	}
	if err := r.stopPrinter(); err != nil {
		return nil, err
	}
	if failed != nil {
		return nil, failed
	}
	return hops[1 : min(limit, launched)+1], nil
}

// hopKind ranks what a hop answered, weakest first: the strongest answer
// among its probes is the hop's.
type hopKind int

const (
	hopSilent   hopKind = iota // no answer
	hopPassed                  // time exceeded: a router on the way
	hopRejected                // an ICMP error that is not the target's port unreachable
	hopClosed                  // the target: RST, or ICMP port unreachable
	hopOpen                    // the target: SYN-ACK, or a UDP reply
)

// classifyTrace tells what one answer says about the path to dst.
func classifyTrace(res transport.TraceResult, dst netip.Addr) hopKind {
	switch res.Answer {
	case transport.TraceOpen:
		return hopOpen
	case transport.TraceClosed:
		return hopClosed
	case transport.TraceICMP:
		switch {
		case res.ICMP.TimeExceeded():
			return hopPassed
		case res.ICMP.PortUnreachable() && res.From == dst:
			return hopClosed
		}
		return hopRejected
	}
	return hopSilent
}

// traceHop is one TTL: the answer to each of its probes.
type traceHop struct {
	ttl     int
	results []transport.TraceResult // by probe
	done    int                     // probes back
	kind    hopKind                 // the strongest answer so far
	main    transport.TraceResult   // the first answer of that kind
}

func (h *traceHop) add(n int, res transport.TraceResult, dst netip.Addr) {
	h.results[n] = res
	h.done++
	if k := classifyTrace(res, dst); k > h.kind {
		h.kind, h.main = k, res
	}
}

func (h *traceHop) complete() bool { return h.done == len(h.results) }

// answered is the first address that answered the hop's probes.
func (h *traceHop) answered() netip.Addr {
	if h.main.From.IsValid() {
		return h.main.From
	}
	for _, res := range h.results {
		if res.From.IsValid() {
			return res.From
		}
	}
	return netip.Addr{}
}
