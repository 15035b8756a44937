package modes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Every state at once, and the same answer whatever the concurrency.
func TestScanFiltered(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed, filtered := porttest.Listener(t), porttest.ClosedPort(t), porttest.FullQueue(t)
	for _, workers := range []int{1, 3} {
		stdout, _, err := scanTo(t, context.Background(), 0, func(o *ScanOptions) { o.JSON, o.Concurrency = true, workers },
			open, closed, filtered)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]string{}
		var summary map[string]any
		for _, l := range jsonLines(t, stdout) {
			if l["type"] == "summary" {
				summary = l
				continue
			}
			got[int(l["port"].(float64))] = l["state"].(string)
			if l["state"] == "filtered" && l["rtt_ms"] != nil {
				t.Errorf("filtered port %v has a round-trip time; no answer came", l)
			}
		}
		want := map[int]string{int(open.Port()): "open", int(closed.Port()): "closed", int(filtered.Port()): "filtered"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("--concurrency %d: states %v, want %v", workers, got, want)
		}
		if summary["open"] != 1.0 || summary["closed"] != 1.0 || summary["filtered"] != 1.0 {
			t.Errorf("--concurrency %d: summary %v, want 1 open, 1 closed, 1 filtered", workers, summary)
		}
	}
}

// Ctrl-C during a probe that waits for an answer ends the scan at once,
// with a summary of the ports scanned so far and the interruption.
func TestScanInterrupted(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, filtered := porttest.Listener(t), porttest.FullQueue(t)
	if open.Port() > filtered.Port() {
		t.Skip("the listener got the higher port; the test needs it scanned first")
	}
	// The first port is reported; the second is still waiting.
	ctx, stop, out := interruptAt(t, func(l string) bool { return strings.Contains(l, " open") })
	o := &ScanOptions{Target: transport.Endpoint{Host: "127.0.0.1"}, Network: "tcp", Timeout: time.Minute, Ports: []int{int(open.Port()), int(filtered.Port())},
		Stdout: out, UI: ui.New(&lineHook{}, 0)}
	done := make(chan error, 1)
	go func() { done <- Scan(ctx, o) }()
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Errorf("interrupted scan returned %v, want the interruption", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the scan did not stop when interrupted")
	}
	if want := "\n127.0.0.1: 1 open, 0 closed, 0 filtered; 1 tcp port of 2 (interrupted) scanned in "; !strings.Contains(out.String(), want) {
		t.Errorf("interrupted scan wrote:\n%s\nwant %q", out.String(), want)
	}
}

// A full scan of 127.0.0.1, in a network namespace of its own: exactly
// the ports the test listens on are open, each named from the services
// database where it has a name. The namespace's only ephemeral port is
// 40010, so the probe of port 40010 connects to itself (as some probes
// of any full scan of loopback do): it must be reported closed.
func TestScanFullRange(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	want := map[int]string{7: "echo", 22: "ssh", 80: "http", 40000: "", 65535: ""}
	for port := range want {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // never accepts: the kernel completes handshakes
	}
	const self = 40010
	netnstest.SetLocalPortRange(t, self, self)
	var stdout, stderr strings.Builder
	o := &ScanOptions{Target: transport.Endpoint{Host: "127.0.0.1"}, Network: "tcp", Stdout: &stdout, UI: ui.New(&stderr, 2)}
	for p := 1; p <= 65535; p++ {
		o.Ports = append(o.Ports, p)
	}
	if err := Scan(context.Background(), o); err != nil {
		t.Fatalf("full scan: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 65535+2 {
		t.Fatalf("scan -vv wrote %d lines, want a header, 65535 ports and a summary", len(lines))
	}
	got := map[int]string{}
	openLine := regexp.MustCompile(`^(\d+)/tcp +open +(\S*) +\d+\.\d{3} ms$`)
	closedLine := regexp.MustCompile(`^(\d+)/tcp +closed .*(connection refused|connected to itself)$`)
	for _, l := range lines[1 : len(lines)-1] {
		if m := openLine.FindStringSubmatch(l); m != nil {
			var p int
			fmt.Sscan(m[1], &p)
			got[p] = m[2]
		} else if !closedLine.MatchString(l) {
			t.Errorf("unexpected line %q", l)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("open ports (with services) = %v, want %v", got, want)
	}
	if l := lines[self]; !strings.HasPrefix(l, fmt.Sprintf("%d/tcp ", self)) || !strings.HasSuffix(l, "connected to itself") {
		t.Errorf("port %d, the only ephemeral port: %q, want closed (the probe connected to itself)", self, l)
	}
	if summary := lines[len(lines)-1]; !strings.HasPrefix(summary, "127.0.0.1: 5 open, 65530 closed, 0 filtered; 65535 tcp ports scanned in ") {
		t.Errorf("summary %q, want 5 open, 65530 closed, 0 filtered", summary)
	}
}

// One lost packet is not a firewall. In a private network namespace,
// iptables drops exactly the first SYN (or datagram) of each pair sent
// to one port, drops every one sent to another, and answers others
// itself with a reset or an ICMP prohibition. Silent ports get fresh
// probes; an answer of any kind ends a port at once: a rule that counts
// the SYNs each port got shows how many probes were sent.
func TestScanRetriesSilentPorts(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	t.Cleanup(func() { goleak.VerifyNone(t) })
	lostFirst, dropped, reset, prohibited := porttest.Listener(t), porttest.Listener(t), porttest.Listener(t), porttest.Listener(t)
	states := scanBehindFirewall(t, "tcp", map[netip.AddrPort][]string{
		lostFirst:  {"-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP"},
		dropped:    {"-j", "DROP"},
		reset:      {"-j", "REJECT", "--reject-with", "tcp-reset"},
		prohibited: {"-j", "REJECT", "--reject-with", "icmp-admin-prohibited"},
	})
	for _, c := range []struct {
		port  netip.AddrPort
		what  string
		state string
		syns  int
	}{
		{lostFirst, "open, its first SYN lost", "open", 2},
		{dropped, "dropping every SYN", "filtered", DefaultScanRetries + 1},
		{reset, "rejected with a reset", "closed", 1},
		{prohibited, "rejected with ICMP admin-prohibited", "filtered", 1},
	} {
		if states[c.port.Port()] != c.state {
			t.Errorf("port %s (%s): %q, want %s", c.port, c.what, states[c.port.Port()], c.state)
		}
		if got := packetsTo(t, "tcp", c.port.Port()); got != c.syns {
			t.Errorf("port %s (%s) got %d SYNs, want %d", c.port, c.what, got, c.syns)
		}
	}

	// -vv says why the dropped port is filtered: every probe went unanswered.
	stdout, _, _ := scanTo(t, context.Background(), 2, func(o *ScanOptions) { o.Timeout, o.Retries = firewallProbeTimeout, 1 }, dropped)
	if want := regexp.MustCompile(`(?m)^\d+/tcp +filtered .* no answer to 2 probes, 300ms each$`); !want.MatchString(stdout) {
		t.Errorf("scan -vv of a port that drops every SYN wrote:\n%s\nwant %s", stdout, want)
	}
}

// UDP: a datagram lost on the way is sent again; an echo server behind
// the loss is open, and a port that drops everything gets every retry.
func TestScanRetriesSilentUDP(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	t.Cleanup(func() { goleak.VerifyNone(t) })
	lostFirst, dropped := porttest.UDPEcho(t, nil), porttest.UDPEcho(t, nil)
	states := scanBehindFirewall(t, "udp", map[netip.AddrPort][]string{
		lostFirst: {"-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP"},
		dropped:   {"-j", "DROP"},
	})
	// At least 2: a reply held up on a loaded machine past the short
	// timeout gets a third datagram (dropped too), and still counts.
	if got := packetsTo(t, "udp", lostFirst.Port()); states[lostFirst.Port()] != "open" || got < 2 {
		t.Errorf("UDP echo server whose first datagram is lost: %q after %d datagrams, want open after 2 or more",
			states[lostFirst.Port()], got)
	}
	if got := packetsTo(t, "udp", dropped.Port()); states[dropped.Port()] != "open|filtered" || got != DefaultScanRetries+1 {
		t.Errorf("UDP port that drops every datagram: %q after %d datagrams, want open|filtered after %d",
			states[dropped.Port()], got, DefaultScanRetries+1)
	}
}

// firewallProbeTimeout is below Linux's first SYN retransmission (1s), so
// that only a probe of sonde's own can get past a lost SYN.
const firewallProbeTimeout = 300 * time.Millisecond

// scanBehindFirewall adds, for each port, an iptables rule that counts
// the SYNs (UDP: datagrams) it gets and one with the given match and
// target, then scans the ports (--json, default retries) and returns the
// state of each.
func scanBehindFirewall(t *testing.T, network string, rules map[netip.AddrPort][]string) map[uint16]string {
	t.Helper()
	var ports []netip.AddrPort
	for port, action := range rules {
		match := []string{"-A", "INPUT", "-p", network, "--dport", strconv.Itoa(int(port.Port()))}
		if network == "tcp" {
			match = append(match, "--syn")
		}
		netnstest.Run(t, "iptables", match...) // no target: it counts
		netnstest.Run(t, "iptables", append(match, action...)...)
		ports = append(ports, port)
	}
	stdout, stderr, err := scanTo(t, context.Background(), 0, func(o *ScanOptions) {
		o.Network, o.JSON, o.Timeout, o.Retries = network, true, firewallProbeTimeout, DefaultScanRetries
	}, ports...)
	var status *ExitStatus // exit 1 (nothing open) is for the states to explain
	if err != nil && !errors.As(err, &status) {
		t.Fatalf("scan: %v\n%s", err, stderr)
	}
	states := map[uint16]string{}
	for _, l := range jsonLines(t, stdout) {
		if l["type"] == "port" {
			states[uint16(l["port"].(float64))] = l["state"].(string)
		}
	}
	return states
}

// packetsTo reads the packet count of the first iptables INPUT rule for
// proto and port: the rule without a target that counts what arrives.
func packetsTo(t *testing.T, proto string, port uint16) int {
	t.Helper()
	out, err := exec.Command("iptables", "-L", "INPUT", "-v", "-n", "-x").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -L: %v\n%s", err, out)
	}
	rule := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*(\d+)\s+\d+\s+%s\s.*\b%s dpt:%d\b.*$`,
		map[string]string{"tcp": "6", "udp": "17"}[proto], proto, port))
	for _, m := range rule.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[1])
		return n // the first rule for the port: the counting one
	}
	t.Fatalf("no iptables rule for %s port %d:\n%s", proto, port, out)
	return 0
}

// A name that does not resolve still ends --json with a summary. In a
// private network namespace no DNS server can be reached, so the lookup
// fails at once, and nothing leaves the namespace.
func TestScanJSONUnresolved(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	stdout, _, err := scanTo(t, context.Background(), 0, func(o *ScanOptions) { o.Target.Host, o.JSON = "nothing.sonde.invalid", true },
		netip.MustParseAddrPort("127.0.0.1:9"))
	var re *transport.ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("scan of a name that does not resolve: %v, want a resolve error", err)
	}
	lines := jsonLines(t, stdout)
	if len(lines) != 1 {
		t.Fatalf("scan --json of a name that does not resolve wrote:\n%s\nwant one summary", stdout)
	}
	checkFields(t, lines[0], scanSummaryFields)
	want := transport.Explain(err).Msg
	if l := lines[0]; l["type"] != "summary" || l["error"] != want || l["addr"] != nil || l["ports"] != 0.0 ||
		!strings.Contains(want, "nothing.sonde.invalid") {
		t.Errorf("summary %v, want error %q, addr null, 0 ports", l, want)
	}
}
