package modes

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

var (
	hop1   = netip.MustParseAddr("198.18.0.1")
	hop2   = netip.MustParseAddr("198.18.1.2")
	target = netip.MustParseAddr("198.18.2.2")
)

var (
	timeExceeded    = transport.ICMPMessage{Type: 11}
	adminProhibited = transport.ICMPMessage{Type: 3, Code: 13}
	portUnreachable = transport.ICMPMessage{Type: 3, Code: 3}
)

// fakePath answers trace probes as a path would: answers[ttl-1] is what
// a probe with that TTL gets; TTLs beyond the list are silent until the
// probe's context ends, so that a trace which failed to cancel them, or
// to finish, hangs (and the test's deadline says so).
type fakePath struct {
	answers []transport.TraceResult
	sent    atomic.Int64
}

func (p *fakePath) probe(ctx context.Context, _ string, _ netip.AddrPort, o transport.TraceProbeOptions) (transport.TraceResult, error) {
	p.sent.Add(1)
	if o.TTL <= len(p.answers) && p.answers[o.TTL-1].Answer != transport.TraceSilent {
		return p.answers[o.TTL-1], nil
	}
	select {
	case <-ctx.Done():
		return transport.TraceResult{}, context.Cause(ctx)
	case <-time.After(o.Timeout):
		return transport.TraceResult{Answer: transport.TraceSilent}, nil
	}
}

func icmpFrom(from netip.Addr, m transport.ICMPMessage) transport.TraceResult {
	return transport.TraceResult{Answer: transport.TraceICMP, From: from, ICMP: m, RTT: time.Millisecond}
}

func runTrace(t *testing.T, ctx context.Context, o *TraceOptions) (stdout, stderr string, err error) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
	var out, msgs bytes.Buffer
	o.Stdout, o.UI = &out, ui.New(&msgs, o.UI.Verbosity())
	o.Target.Numeric = o.lookup == nil
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // guards against hangs
	defer cancel()
	err = Trace(ctx, o)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the trace hung: %v\n%s", ctx.Err(), out.String())
	}
	return out.String(), msgs.String(), err
}

func traceOptions(p *fakePath, network string) *TraceOptions {
	return &TraceOptions{Target: transport.Endpoint{Host: target.String(), Port: 80}, Network: network,
		Timeout: 10 * time.Second, probe: p.probe, UI: ui.New(nil, 0)}
}

func TestTraceReachedOpen(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), icmpFrom(hop2, timeExceeded),
		{Answer: transport.TraceOpen, From: target, RTT: 2 * time.Millisecond}}}
	// The target answers once TTL 5 is sent, and the TTLs beyond it never
	// answer: the trace ends only if it cancels them.
	o := traceOptions(p, "tcp")
	ttl5 := make(chan struct{})
	var once sync.Once
	o.probe = func(ctx context.Context, network string, dst netip.AddrPort, po transport.TraceProbeOptions) (transport.TraceResult, error) {
		switch {
		case po.TTL == 3:
			<-ttl5
		case po.TTL == 5:
			once.Do(func() { close(ttl5) })
			fallthrough
		case po.TTL > 3:
			<-ctx.Done()
			return transport.TraceResult{}, context.Cause(ctx)
		}
		return p.probe(ctx, network, dst, po)
	}
	out, _, err := runTrace(t, context.Background(), o)
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	want := "trace to 198.18.2.2 port 80/tcp: up to 30 hops, 3 probes per hop, 10s each\n" +
		" 1  198.18.0.1  1.000 ms  1.000 ms  1.000 ms  time exceeded\n" +
		" 2  198.18.1.2  1.000 ms  1.000 ms  1.000 ms  time exceeded\n" +
		" 3  198.18.2.2  2.000 ms  2.000 ms  2.000 ms  open (SYN-ACK)\n" +
		"reached 198.18.2.2 port 80 (open) in 3 hops\n"
	if out != want {
		t.Errorf("report:\n%s\nwant:\n%s", out, want)
	}
}

func TestTraceReachedClosed(t *testing.T) {
	for _, tc := range []struct {
		name, network string
		answer        transport.TraceResult
		row           string
	}{
		{"reset", "tcp", transport.TraceResult{Answer: transport.TraceClosed, From: target}, "closed (RST)"},
		{"port unreachable from the target", "udp", icmpFrom(target, portUnreachable), "closed (port unreachable, ICMP 3/3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), tc.answer}}
			out, _, err := runTrace(t, context.Background(), traceOptions(p, tc.network))
			if err != nil {
				t.Fatalf("Trace: %v", err)
			}
			if !strings.Contains(out, "  "+tc.row+"\n") || !strings.HasSuffix(out, "reached 198.18.2.2 port 80 (closed) in 2 hops\n") {
				t.Errorf("report:\n%s", out)
			}
		})
	}
}

// A refusal stops the trace at its TTL, and the verdict names the router
// by the hop where it first answered.
func TestTraceRejected(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), icmpFrom(hop2, timeExceeded),
		icmpFrom(hop2, adminProhibited)}}
	out, _, err := runTrace(t, context.Background(), traceOptions(p, "udp"))
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Fatalf("Trace returned %v, want exit status 1", err)
	}
	if !strings.Contains(out, "\n 3  198.18.1.2  1.000 ms  1.000 ms  1.000 ms  admin prohibited (ICMP 3/13)\n") ||
		!strings.HasSuffix(out, "\nrejected at hop 2 (198.18.1.2): admin prohibited (ICMP 3/13)\n") || strings.Contains(out, "\n 4") {
		t.Errorf("report:\n%s", out)
	}
}

// A port unreachable from a router is a firewall's refusal (iptables'
// default REJECT), not a closed port.
func TestTracePortUnreachableFromARouter(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, portUnreachable)}}
	out, _, err := runTrace(t, context.Background(), traceOptions(p, "udp"))
	if err == nil || !strings.HasSuffix(out, "\nrejected at hop 1 (198.18.0.1): port unreachable (ICMP 3/3)\n") {
		t.Errorf("Trace returned %v; report:\n%s", err, out)
	}
}

// Every TTL is in flight at once: here each silent probe answers only
// once every probe of every TTL has been sent, which a trace that waits
// for one TTL before the next never does (it hangs, and fails).
func TestTraceParallel(t *testing.T) {
	const maxHops, probes = 6, 2
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded)}}
	all := make(chan struct{})
	var started atomic.Int64
	o := traceOptions(p, "udp")
	o.MaxHops, o.Probes = maxHops, probes
	o.probe = func(ctx context.Context, network string, dst netip.AddrPort, po transport.TraceProbeOptions) (transport.TraceResult, error) {
		if started.Add(1) == maxHops*probes {
			close(all)
		}
		if po.TTL == 1 {
			return p.probe(ctx, network, dst, po)
		}
		select {
		case <-all:
			return transport.TraceResult{Answer: transport.TraceSilent}, nil
		case <-ctx.Done():
			return transport.TraceResult{}, context.Cause(ctx)
		}
	}
	out, stderr, err := runTrace(t, context.Background(), o)
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Fatalf("Trace returned %v, want exit status 1", err)
	}
	want := "trace to 198.18.2.2 port 80/udp: up to 6 hops, 2 probes per hop, 10s each\n" +
		" 1  198.18.0.1  1.000 ms  1.000 ms  time exceeded\n" +
		" 2-6  no answer\n" +
		"stopped: no answer after hop 1 (198.18.0.1)\n"
	if out != want {
		t.Errorf("report:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(stderr, "sonde: hint: an open UDP port that ignores an empty datagram is silent too") {
		t.Errorf("stderr: %q", stderr)
	}
}

func TestTraceVerboseListsSilentHops(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{{}, icmpFrom(hop2, timeExceeded)}}
	o := traceOptions(p, "udp")
	o.MaxHops, o.Probes, o.Timeout = 3, 1, 10*time.Millisecond
	o.UI = ui.New(nil, 1)
	out, _, _ := runTrace(t, context.Background(), o)
	for _, line := range []string{" 1  *\n", " 2  198.18.1.2  1.000 ms  time exceeded\n", " 3  *\n",
		"stopped: no answer after hop 2 (198.18.1.2)\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("report lacks %q:\n%s", line, out)
		}
	}
}

func TestTraceNoHopAnswered(t *testing.T) {
	p := &fakePath{}
	o := traceOptions(p, "udp")
	o.MaxHops, o.Probes, o.Timeout = 2, 1, 10*time.Millisecond
	out, _, err := runTrace(t, context.Background(), o)
	if err == nil || !strings.HasSuffix(out, " 1-2  no answer\nstopped: no hop answered (2 hops probed)\n") {
		t.Errorf("Trace returned %v; report:\n%s", err, out)
	}
}

func TestTraceMaxHops(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), icmpFrom(hop2, timeExceeded)}}
	o := traceOptions(p, "udp")
	o.MaxHops = 2
	out, _, err := runTrace(t, context.Background(), o)
	if err == nil || !strings.HasSuffix(out, "\nnot reached in 2 hops: hop 2 (198.18.1.2) still forwards the probes (raise -m)\n") {
		t.Errorf("Trace returned %v; report:\n%s", err, out)
	}
}

func TestTraceJSON(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), {},
		{Answer: transport.TraceOpen, From: target, RTT: 2 * time.Millisecond}}}
	o := traceOptions(p, "udp")
	o.JSON, o.Probes, o.Timeout = true, 1, 10*time.Millisecond
	out, stderr, err := runTrace(t, context.Background(), o)
	if err != nil || stderr != "" {
		t.Fatalf("Trace: %v; stderr %q", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{
		`{"type":"hop","ttl":1,"addr":"198.18.0.1","name":null,"addrs":["198.18.0.1"],"rtt_ms":[1],"icmp":"time exceeded","icmp_type":11,"icmp_code":0,"state":null}`,
		`{"type":"hop","ttl":2,"addr":null,"name":null,"addrs":[],"rtt_ms":[null],"icmp":null,"icmp_type":null,"icmp_code":null,"state":null}`,
		`{"type":"hop","ttl":3,"addr":"198.18.2.2","name":null,"addrs":["198.18.2.2"],"rtt_ms":[2],"icmp":null,"icmp_type":null,"icmp_code":null,"state":"open"}`,
	}
	if len(lines) != 4 || strings.Join(lines[:3], "\n") != strings.Join(want, "\n") {
		t.Fatalf("output:\n%s\nwant the hops:\n%s", out, strings.Join(want, "\n"))
	}
	sum := `{"type":"summary","host":"198.18.2.2","addr":"198.18.2.2","port":80,"proto":"udp","reached":true,"state":"open",` +
		`"last_hop":{"hop":3,"addr":"198.18.2.2","name":null},"verdict":"reached","icmp":null,` +
		`"text":"reached 198.18.2.2 port 80 (open) in 3 hops","hops":3,"elapsed_ms":`
	if !strings.HasPrefix(lines[3], sum) || !strings.HasSuffix(lines[3], `,"interrupted":false,"error":null}`) {
		t.Errorf("summary:\n%s\nwant:\n%s...", lines[3], sum)
	}
}

// A trace that cannot start still ends its JSON with a summary that says why.
func TestTraceJSONFailure(t *testing.T) {
	o := traceOptions(&fakePath{}, "udp")
	o.JSON, o.Target.Host = true, "not.an.address"
	out, _, err := runTrace(t, context.Background(), o)
	if err == nil {
		t.Fatal("Trace of a name with -n succeeded")
	}
	if !strings.HasPrefix(out, `{"type":"summary","host":"not.an.address","addr":null,`) ||
		!strings.Contains(out, `"verdict":null`) || !strings.Contains(out, `"error":"`) || strings.Contains(out, `"error":null`) {
		t.Errorf("output: %s", out)
	}
}

// A local failure of one probe ends the trace with that error.
func TestTraceProbeError(t *testing.T) {
	o := traceOptions(&fakePath{}, "udp")
	boom := errors.New("no descriptors left")
	o.probe = func(ctx context.Context, _ string, _ netip.AddrPort, po transport.TraceProbeOptions) (transport.TraceResult, error) {
		if po.TTL == 2 {
			return transport.TraceResult{}, boom
		}
		<-ctx.Done()
		return transport.TraceResult{}, context.Cause(ctx)
	}
	_, _, err := runTrace(t, context.Background(), o)
	if !errors.Is(err, boom) {
		t.Errorf("Trace returned %v, want %v", err, boom)
	}
}

func TestTraceInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	intr := &Interrupted{Signal: "interrupt"}
	o := traceOptions(&fakePath{}, "udp")
	var sent atomic.Int64
	o.probe = func(pctx context.Context, _ string, _ netip.AddrPort, po transport.TraceProbeOptions) (transport.TraceResult, error) {
		if sent.Add(1) == 5 {
			cancel(intr)
		}
		<-pctx.Done()
		return transport.TraceResult{}, context.Cause(pctx)
	}
	_, _, err := runTrace(t, ctx, o)
	if !errors.Is(err, intr) {
		t.Errorf("Trace returned %v, want the interruption", err)
	}
}

// Hop names come from reverse lookups, each bounded by the timeout; a
// hop whose lookup fails or does not end in time is shown by address.
func TestTraceNames(t *testing.T) {
	p := &fakePath{answers: []transport.TraceResult{icmpFrom(hop1, timeExceeded), icmpFrom(hop2, timeExceeded),
		{Answer: transport.TraceOpen, From: target}}}
	o := traceOptions(p, "udp")
	o.Probes, o.Timeout = 1, 50*time.Millisecond
	o.lookup = func(ctx context.Context, addr string) ([]string, error) {
		switch addr {
		case hop1.String():
			return []string{"r1.example."}, nil
		case hop2.String():
			<-ctx.Done() // a resolver that never answers
			return nil, ctx.Err()
		}
		return nil, errors.New("no such host")
	}
	out, _, err := runTrace(t, context.Background(), o)
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	for _, line := range []string{" 1  r1.example (198.18.0.1)  1.000 ms  time exceeded\n", " 2  198.18.1.2  1.000 ms  time exceeded\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("report lacks %q:\n%s", line, out)
		}
	}
}
