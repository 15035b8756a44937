package modes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// pingTo pings addr and returns what it wrote.
func pingTo(ctx context.Context, addr netip.AddrPort, tweak func(*PingOptions), stdout, stderr *lineHook) error {
	return Ping(ctx, tweaked(&PingOptions{Target: transport.Endpoint{Host: addr.Addr().String(), Port: int(addr.Port())},
		Interval: time.Millisecond, Stdout: stdout, UI: ui.New(stderr, 0)}, tweak))
}

var (
	probeFields = map[string]string{"type": "string", "seq": "number", "ok": "bool", "rtt_ms": "number", "error": "string"}

	pingSummaryFields = map[string]string{"type": "string", "host": "string", "addr": "string", "port": "number",
		"mode": "string", "sent": "number", "ok": "number", "loss_pct": "number", "min_ms": "number",
		"avg_ms": "number", "max_ms": "number", "stddev_ms": "number", "p50_ms": "number", "p90_ms": "number",
		"p99_ms": "number", "duplicates": "number", "reordered": "number", "late": "number",
		"elapsed_ms": "number", "interrupted": "bool", "error": "string"}
)

// checkPingSummary checks the fields of a ping --json summary and their
// types; its histogram is a list of buckets, or null when no probe
// succeeded.
func checkPingSummary(t *testing.T, m map[string]any) {
	t.Helper()
	rest := maps.Clone(m)
	h, ok := rest["histogram"]
	delete(rest, "histogram")
	checkFields(t, rest, pingSummaryFields)
	switch h := h.(type) {
	case nil:
		if !ok || m["ok"] != 0.0 {
			t.Errorf("%v: histogram missing, or null when probes succeeded", m)
		}
	case []any:
		var total float64
		for _, b := range h {
			b, _ := b.(map[string]any)
			checkFields(t, b, map[string]string{"from_ms": "number", "to_ms": "number", "count": "number"})
			total += b["count"].(float64)
		}
		if len(h) == 0 || total != m["ok"] {
			t.Errorf("%v: histogram holds %g probes, want the %v that succeeded", m, total, m["ok"])
		}
	default:
		t.Errorf("%v: histogram is a %T, want a list", m, h)
	}
}

func TestPingTCP(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr := porttest.Listener(t)
	var stdout, stderr lineHook
	if err := pingTo(context.Background(), addr, func(o *PingOptions) { o.Count, o.JSON = 5, true }, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stderr.String() != "" {
		t.Errorf("ping --json wrote to stderr: %q", stderr.String())
	}
	lines := jsonLines(t, stdout.String())
	if len(lines) != 6 {
		t.Fatalf("ping -c 5 --json wrote %d objects, want 5 probes and a summary:\n%s", len(lines), stdout.String())
	}
	seen := map[float64]bool{}
	for _, l := range lines[:5] {
		checkFields(t, l, probeFields)
		if l["type"] != "probe" || l["ok"] != true || l["error"] != nil || l["rtt_ms"] == nil || l["rtt_ms"].(float64) <= 0 {
			t.Errorf("probe %v, want ok with a time and no error", l)
		}
		seen[l["seq"].(float64)] = true
	}
	if len(seen) != 5 || !seen[1] || !seen[5] {
		t.Errorf("sequence numbers %v, want 1 to 5 once each", seen)
	}
	s := lines[5]
	checkPingSummary(t, s)
	if s["type"] != "summary" || s["sent"] != 5.0 || s["ok"] != 5.0 || s["loss_pct"] != 0.0 || s["mode"] != "tcp" || s["error"] != nil {
		t.Errorf("summary %v, want 5 sent, 5 ok, 0%% loss", s)
	}
	if s["min_ms"].(float64) > s["p50_ms"].(float64) || s["p50_ms"].(float64) > s["max_ms"].(float64) {
		t.Errorf("summary %v: want min <= p50 <= max", s)
	}
}

// The summary comes even when every probe fails, and then the exit
// status is 1; every probe gets its line.
func TestPingAllFail(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	for _, mode := range []PingMode{PingTCP, PingUDP} {
		var stdout, stderr lineHook
		err := pingTo(context.Background(), closed, func(o *PingOptions) { o.Count, o.Mode = 3, mode }, &stdout, &stderr)
		var status *ExitStatus
		if !errors.As(err, &status) || status.Code != 1 {
			t.Errorf("%s ping of a closed port: %v, want exit status 1", mode, err)
		}
		why := "connection refused"
		if mode == PingUDP {
			// The kernel rate-limits ICMP errors: a probe may go unanswered
			// instead. At least one must be reported as unreachable (below).
			why = `(ICMP port unreachable \(nothing listens on that UDP port\)|no reply within 1s)`
		}
		// Handshakes overlap, so their lines may come in any order.
		probe := fmt.Sprintf(`%s: seq=[123] %s\n`, regexp.QuoteMeta(closed.String()), why)
		want := regexp.MustCompile(`^PING 127\.0\.0\.1 port \d+: .* every 1ms\n` + probe + probe + probe +
			`--- 127\.0\.0\.1 port \d+ ping statistics ---\n` +
			`3 probes sent, 0 ok, 100% loss, .*time \S+\n$`)
		if want := "sonde: no probe to " + closed.String() + " succeeded\n"; stderr.String() != want {
			t.Errorf("%s ping of a closed port wrote to stderr: %q, want %q", mode, stderr.String(), want)
		}
		out := stdout.String()
		if mode == PingUDP && !strings.Contains(out, "ICMP port unreachable") {
			t.Errorf("udp ping of a closed port never reported ICMP port unreachable:\n%s", out)
		}
		if !want.MatchString(out) {
			t.Errorf("%s ping of a closed port wrote:\n%s\nwant:\n%s", mode, out, want)
		}
		for seq := 1; seq <= 3; seq++ {
			if n := strings.Count(out, fmt.Sprintf(": seq=%d ", seq)); n != 1 {
				t.Errorf("%s ping: %d lines for seq=%d, want 1", mode, n, seq)
			}
		}
	}
}

// A UDP echo server that loses every third datagram, sends the second
// one twice and swaps the fourth and fifth: ping counts each.
func TestPingUDPLossyEcho(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	var held []byte
	addr := porttest.UDPEcho(t, func(n int, p []byte) [][]byte {
		switch {
		case n%3 == 0:
			return nil // lost
		case n == 2:
			return [][]byte{p, p} // duplicated
		case n == 4:
			held = p
			return nil // sent after the fifth
		case n == 5:
			return [][]byte{p, held}
		}
		return [][]byte{p}
	})
	var stdout lineHook
	err := pingTo(context.Background(), addr, func(o *PingOptions) {
		o.Mode, o.Count, o.Interval, o.Timeout, o.JSON = PingUDP, 9, 10*time.Millisecond, 2*time.Second, true
	}, &stdout, &lineHook{})
	if err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, stdout.String())
	if len(lines) != 10 {
		t.Fatalf("ping --udp -c 9 wrote %d objects, want 9 probes and a summary:\n%s", len(lines), stdout.String())
	}
	for _, l := range lines[:9] {
		checkFields(t, l, probeFields)
		seq := int(l["seq"].(float64))
		lost := seq%3 == 0
		if l["ok"] == lost || lost && l["error"] != "no reply within 2s" {
			t.Errorf("probe %v: want it %s", l, map[bool]string{true: "lost (no reply within 2s)", false: "answered"}[lost])
		}
	}
	s := lines[9]
	checkPingSummary(t, s)
	want := map[string]any{"mode": "udp", "sent": 9.0, "ok": 6.0, "loss_pct": 33.333, "duplicates": 1.0, "reordered": 1.0, "late": 0.0}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("summary %s = %v, want %v", k, s[k], v)
		}
	}
}

// A reply that comes after its probe timed out is reported late, not as
// a success, and not as a duplicate.
func TestPingUDPLateReply(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	var held []byte
	addr := porttest.UDPEcho(t, func(n int, p []byte) [][]byte {
		if n == 1 {
			held = p // answered only with the reply to the third probe
			return nil
		}
		if n == 3 {
			return [][]byte{held, p}
		}
		return [][]byte{p}
	})
	var stdout lineHook
	err := pingTo(context.Background(), addr, func(o *PingOptions) {
		o.Mode, o.Count, o.Interval, o.Timeout = PingUDP, 3, 500*time.Millisecond, 750*time.Millisecond
	}, &stdout, &lineHook{})
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{": seq=1 no reply within 750ms\n", ": seq=1 late reply, time=",
		"3 probes sent, 2 ok, 33.3% loss, 0 duplicates, 0 reordered, 1 late, time "} {
		if !strings.Contains(out, want) {
			t.Errorf("ping --udp wrote:\n%s\nwant %q", out, want)
		}
	}
}

// echoServer is a TCP echo server that counts its connections.
func echoServer(t *testing.T, serve func(c net.Conn)) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	if serve == nil {
		serve = func(c net.Conn) { io.Copy(c, c) }
	}
	var conns atomic.Int32
	addr := porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		conns.Add(1)
		serve(c)
	})
	return addr, &conns
}

// --echo times round trips over one connection: the server sees exactly one.
func TestPingEcho(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, conns := echoServer(t, nil)
	var stdout lineHook
	if err := pingTo(context.Background(), addr, func(o *PingOptions) { o.Mode, o.Count, o.JSON = PingEcho, 5, true }, &stdout, &lineHook{}); err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, stdout.String())
	if len(lines) != 6 || lines[5]["ok"] != 5.0 || lines[5]["mode"] != "echo" {
		t.Errorf("ping --echo -c 5 wrote:\n%s\nwant 5 answered probes", stdout.String())
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the echo server saw %d connections, want 1", n)
	}
}

// A server that does not echo is told apart from a slow one.
func TestPingEchoNotAnEchoServer(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, _ := echoServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		io.Copy(io.Discard, c)
	})
	var stdout, stderr lineHook
	err := pingTo(context.Background(), addr, func(o *PingOptions) { o.Mode, o.Count = PingEcho, 3 }, &stdout, &stderr)
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Errorf("ping --echo of an HTTP server: %v, want exit status 1", err)
	}
	for _, want := range []string{"sonde: 127.0.0.1:", " does not echo: it sent \"HTTP/1.0 400 Bad Request", "sonde: hint: --echo needs an echo server"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("ping --echo of an HTTP server wrote to stderr:\n%s\nwant %q", stderr.String(), want)
		}
	}
	if !strings.Contains(stdout.String(), "\n--- 127.0.0.1 port ") || strings.Contains(stdout.String(), "sonde: ") {
		t.Errorf("ping --echo of an HTTP server wrote to stdout:\n%s\nwant the summary, without the prefix of messages", stdout.String())
	}
}

// Ctrl-C ends the ping with the summary of the probes done, and the
// interruption, which main turns into exit status 130.
func TestPingInterrupted(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr := porttest.Listener(t)
	var answered atomic.Int32
	ctx, stop, stdout := interruptAt(t, func(l string) bool {
		// Handshakes overlap and may end in any order: count lines.
		return strings.Contains(l, ": seq=") && answered.Add(1) == 3
	})
	err := pingTo(ctx, addr, nil, stdout, &lineHook{}) // no -c: until interrupted
	if !errors.Is(err, stop) {
		t.Fatalf("interrupted ping: %v, want the interruption", err)
	}
	if !regexp.MustCompile(`ping statistics ---\n[3-9] probes sent, [3-9] ok, 0% loss, time \S+\nrtt min/avg/max/stddev = [0-9./]+ ms\nrtt p50/p90/p99 = [0-9./]+ ms\n`).MatchString(stdout.String()) {
		t.Errorf("interrupted ping wrote:\n%s\nwant a full summary at the end", stdout.String())
	}
}

// ping --json ends with a summary however it ends, and its error says
// why it failed: a name it may not resolve, no probe answered, an echo
// server that does not echo, an interruption, a command line it never
// ran with.
func TestPingJSONFailures(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	notEcho, _ := echoServer(t, func(c net.Conn) { io.WriteString(c, "not an echo, but 28 bytes...") })
	for _, tt := range []struct {
		name  string
		addr  netip.AddrPort
		tweak func(*PingOptions)
		want  string
		addr0 any // the summary's addr
	}{
		{"name with -n", closed, func(o *PingOptions) { o.Target.Host, o.Target.Numeric = "db.example", true },
			`-n forbids DNS lookups, and "db.example" is not a numeric address`, nil},
		{"every probe refused", closed, nil, "no probe to " + closed.String() + " succeeded", "127.0.0.1"},
		{"not an echo server", notEcho, func(o *PingOptions) { o.Mode = PingEcho },
			notEcho.String() + ` does not echo: it sent "not an echo, but 28 bytes...", not the probe`, "127.0.0.1"},
	} {
		var stdout lineHook
		err := pingTo(context.Background(), tt.addr, func(o *PingOptions) {
			o.Count, o.JSON = 2, true
			tweaked(o, tt.tweak)
		}, &stdout, &lineHook{})
		if err == nil {
			t.Errorf("%s: ping succeeded", tt.name)
			continue
		}
		lines := jsonLines(t, stdout.String())
		if len(lines) == 0 {
			t.Errorf("%s: ping --json wrote nothing", tt.name)
			continue
		}
		s := lines[len(lines)-1]
		checkPingSummary(t, s)
		if s["type"] != "summary" || s["error"] != tt.want || s["addr"] != tt.addr0 {
			t.Errorf("%s: ping --json ended with %v, want a summary with addr %v and the error %q", tt.name, s, tt.addr0, tt.want)
		}
	}

	// Interrupted before the first probe.
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupted{Signal: "interrupt"})
	var stdout lineHook
	if err := pingTo(ctx, closed, func(o *PingOptions) { o.JSON = true }, &stdout, &lineHook{}); !isInterrupted(err) {
		t.Errorf("interrupted ping: %v, want the interruption", err)
	}
	lines := jsonLines(t, stdout.String())
	if s := lines[len(lines)-1]; s["type"] != "summary" || s["error"] != "interrupted" || s["interrupted"] != true {
		t.Errorf("interrupted ping --json ended with %v, want a summary with the error interrupted", s)
	}

	stdout = lineHook{}
	o := &PingOptions{JSON: true, Stdout: &stdout, Target: transport.Endpoint{Host: "db"}, Mode: PingUDP}
	if err := PingNotStarted(o, errors.New("bad -c 0")); err == nil || err.Error() != "bad -c 0" {
		t.Errorf("PingNotStarted returned %v, want its error", err)
	}
	lines = jsonLines(t, stdout.String())
	if len(lines) != 1 || lines[0]["error"] != "bad -c 0" || lines[0]["mode"] != "udp" || lines[0]["sent"] != 0.0 {
		t.Errorf("a ping that could not start wrote:\n%s\nwant its summary with the error", stdout.String())
	} else {
		checkPingSummary(t, lines[0])
	}
}

func TestPingStatistics(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	r := newRTTStats()
	for _, v := range []float64{4, 1, 3, 2, 10, 5, 6, 7, 8, 9} { // 1..10 ms, unsorted
		r.record(ms(v))
	}
	if r.min != ms(1) || r.max != ms(10) || r.avg() != ms(5.5) || r.stddev() != 2872281*time.Nanosecond {
		t.Errorf("min/avg/max/stddev = %s/%s/%s/%s, want 1ms/5.5ms/10ms/2.872281ms", r.min, r.avg(), r.max, r.stddev())
	}
	// Nearest rank, to 3 significant digits: within 0.1% of the time.
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, ms(5)}, {90, ms(9)}, {99, ms(10)}, {10, ms(1)}, {0, ms(1)}} {
		if got := r.percentile(tt.p); got < tt.want || got > tt.want+tt.want/1000 {
			t.Errorf("percentile(1..10 ms, %g) = %s, want %s to 0.1%%", tt.p, got, tt.want)
		}
	}
	one := newRTTStats()
	one.record(ms(7))
	if got := one.percentile(99); got != ms(7) {
		t.Errorf("percentile of one time = %s, want it", got)
	}
	if b := one.buckets(); len(b) != 1 || b[0] != (rttBucket{From: ms(7), To: ms(7), Count: 1}) {
		t.Errorf("buckets of one time = %v, want one bucket that holds it", b)
	}
	for _, tt := range []struct {
		p    float64
		want string
	}{{0, "0%"}, {100, "100%"}, {100.0 / 3, "33.3%"}, {12.5, "12.5%"}} {
		if got := formatPct(tt.p); got != tt.want {
			t.Errorf("formatPct(%g) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// The histogram of the summary: buckets that grow by a constant factor
// from the fastest time to the slowest, counts, and bars scaled to the
// largest count (one '#' at least for a count that is not 0).
func TestPingHistogram(t *testing.T) {
	r := newRTTStats()
	for i := range 100 {
		switch {
		case i < 90:
			r.record(time.Millisecond)
		case i < 99:
			r.record(12 * time.Millisecond)
		default:
			r.record(100 * time.Millisecond)
		}
	}
	want := []string{
		"rtt histogram:",
		"   1.000 -   1.778 ms  90  ########################################",
		"   1.778 -   3.162 ms   0",
		"   3.162 -   5.623 ms   0",
		"   5.623 -  10.000 ms   0",
		"  10.000 -  17.783 ms   9  ####",
		"  17.783 -  31.623 ms   0",
		"  31.623 -  56.234 ms   0",
		"  56.234 - 100.000 ms   1  #",
	}
	if got := histogramLines(r.buckets()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("histogram of 90 × 1ms, 9 × 12ms, 1 × 100ms:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Times within a few microseconds: one bucket per microsecond at most.
	narrow := newRTTStats()
	for i := range 1000 {
		narrow.record(40*time.Microsecond + time.Duration(i%4)*time.Microsecond)
	}
	b := narrow.buckets()
	var total int64
	for _, x := range b {
		total += x.Count
	}
	if len(b) != 3 || b[0].From != 40*time.Microsecond || b[2].To != 43*time.Microsecond || total != 1000 {
		t.Errorf("buckets of 40..43µs = %v, want 3 from 40µs to 43µs holding 1000 times", b)
	}
}

// A decided probe is forgotten once it is twice the timeout old, so a
// long ping keeps few records; a reply to one forgotten is late.
func TestPingForgetsOldProbes(t *testing.T) {
	old := time.Now().Add(-time.Second)
	s := &pingSession{o: &PingOptions{JSON: true}, timeout: 100 * time.Millisecond, stats: pingStats{rtt: newRTTStats()},
		first: 1, started: 4, probes: []pingProbe{
			{sent: old, decided: true, ok: true}, {sent: old, decided: true}, {sent: old}, {sent: old, decided: true}}}
	s.forget()
	if s.first != 3 || len(s.probes) != 2 {
		t.Errorf("after forget: records from seq %d, %d of them; want the 2 from seq 3 (the first one waiting) on", s.first, len(s.probes))
	}
	if s.probe(1) != nil || s.probe(3) == nil || s.probe(5) != nil {
		t.Error("probe(seq) finds forgotten or unsent probes, or misses one remembered")
	}
	if !s.handle(pingReply{seq: 1, ok: true, rtt: time.Second}) || s.stats.late != 1 || s.stats.dup != 0 {
		t.Errorf("a reply to a forgotten probe: %d late, %d duplicates; want 1 late", s.stats.late, s.stats.dup)
	}
}

// Frames that are not ours (another session's nonce, junk, a truncated
// frame) are rejected, so a stray datagram cannot pass for a reply.
func TestFrameCodec(t *testing.T) {
	a, b := newFrameCodec(), newFrameCodec()
	f := a.encode(42)
	if seq, rtt, ok := a.decode(f); !ok || seq != 42 || rtt < 0 {
		t.Errorf("decode(encode(42)) = %d, %s, %v", seq, rtt, ok)
	}
	if _, _, ok := b.decode(f); ok {
		t.Error("a frame of another session was accepted")
	}
	if _, _, ok := a.decode(f[:frameLen-1]); ok {
		t.Error("a truncated frame was accepted")
	}
	if _, _, ok := a.decode(make([]byte, frameLen)); ok {
		t.Error("zeros were accepted as a frame")
	}
}
