package modes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Hosts share the workers: round r starts probe r of each host in turn,
// so the probes of a host with many ports (or slow ones) are spread
// among the others' instead of coming first. One worker makes the order
// of starts the order of outcomes.
func TestProbeHostsInterleaves(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := int(porttest.ClosedPort(t).Port())
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	hosts := []probeHost{
		{name: "a", addrs: lo, ports: []int{closed, closed, closed}, network: "tcp"},
		{name: "b", addrs: lo, ports: []int{closed}, network: "tcp"},
		{name: "c", addrs: lo, ports: []int{closed, closed}, network: "tcp"},
	}
	var got []string
	for oc := range probeHosts(context.Background(), hosts, 1, 0, transport.ProbeOptions{Timeout: time.Second}) {
		if oc.err != nil {
			t.Fatal(oc.err)
		}
		got = append(got, fmt.Sprintf("%s%d", hosts[oc.host].name, oc.i))
	}
	if want := "a0 b0 c0 a1 c1 a2"; strings.Join(got, " ") != want {
		t.Errorf("probes started in the order %v, want %s", got, want)
	}
}

// A host named twice is one host with the ports of both.
func TestMergeHosts(t *testing.T) {
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	got := mergeHosts([]probeHost{
		{name: "a", addrs: lo, ports: []int{80, 443}},
		{name: "b", addrs: lo, ports: []int{22}},
		{name: "a", addrs: lo, ports: []int{22, 80}},
	})
	if len(got) != 2 || got[0].name != "a" || !slices.Equal(got[0].ports, []int{22, 80, 443}) || got[1].name != "b" {
		t.Errorf("mergeHosts = %+v, want a with 22,80,443 then b", got)
	}
}

// scanManyTo scans targets (each with the ports given, or the default
// ones) and returns what it wrote.
func scanManyTo(t *testing.T, verbosity int, tweak func(*ScanOptions), hosts string, ports ...int) (stdout, stderr string, err error) {
	t.Helper()
	specs, err := transport.ParseHosts(hosts)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs lineHook
	o := &ScanOptions{Many: true, Network: "tcp", Ports: ports, Timeout: 300 * time.Millisecond,
		Stdout: &out, UI: ui.New(&errs, verbosity)}
	for _, s := range specs {
		o.Targets = append(o.Targets, ScanTarget{Host: s})
	}
	err = Scan(context.Background(), tweaked(o, tweak))
	return out.String(), errs.String(), err
}

// The report of many hosts: a heading per host that has an open port,
// with its counts, its table, a blank line; then the total. A host named
// twice (here an address and a block of one) is reported once.
func TestScanManyReport(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	stdout, stderr, err := scanManyTo(t, 0, nil, "127.0.0.1,127.0.0.1/32", int(open.Port()), int(closed.Port()))
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, stderr)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^127\.0\.0\.1: 1 open, 1 closed, 0 filtered
PORT +STATE +SERVICE
%d/tcp +open\b.*

1 host: 1 open, 1 closed, 0 filtered; 2 tcp ports scanned in \S+
$`, open.Port()))
	if !want.MatchString(stdout) || stderr != "" {
		t.Errorf("scan of many hosts wrote:\n%s\nstderr %q\nwant %s", stdout, stderr, want)
	}

	// Nothing open: no host has anything to say, but for -v; exit 1.
	stdout, _, err = scanManyTo(t, 0, nil, "127.0.0.1,127.0.0.1", int(closed.Port()))
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 || !regexp.MustCompile(`^1 host: 0 open, 1 closed, 0 filtered; 1 tcp port scanned in \S+\n$`).MatchString(stdout) {
		t.Errorf("scan of hosts with nothing open: %v, wrote:\n%s\nwant exit 1 and the total alone", err, stdout)
	}
	stdout, _, _ = scanManyTo(t, 1, nil, "127.0.0.1", int(closed.Port()))
	if !strings.HasPrefix(stdout, "127.0.0.1: 0 open, 1 closed, 0 filtered\n") || !strings.Contains(stdout, "/tcp  closed") {
		t.Errorf("scan -v of hosts with nothing open wrote:\n%s\nwant every host and port", stdout)
	}
}

// The JSON of many hosts: a record per probe as for one host, then a
// summary of the totals, which --json writes whatever happens.
func TestScanManyJSON(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	stdout, _, err := scanManyTo(t, 0, func(o *ScanOptions) { o.JSON = true }, "127.0.0.1/32", int(open.Port()), int(closed.Port()))
	if err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, stdout)
	if len(lines) != 3 {
		t.Fatalf("scan --json wrote:\n%s\nwant 2 ports and a summary", stdout)
	}
	portFields := map[string]string{"type": "string", "host": "string", "addr": "string", "port": "number",
		"proto": "string", "state": "string", "service": "string", "rtt_ms": "number"}
	checkFields(t, lines[0], portFields)
	checkFields(t, lines[1], portFields)
	checkFields(t, lines[2], scanManySummaryFields)
	if s := lines[2]; s["hosts"] != 1.0 || s["addresses"] != 1.0 || s["ports"] != 2.0 || s["open"] != 1.0 || s["closed"] != 1.0 {
		t.Errorf("summary %v, want 1 host, 1 address, 2 ports: 1 open, 1 closed", s)
	}

	// Refused before any probe: the cap, counted without listing the block.
	stdout, _, err = scanManyTo(t, 0, func(o *ScanOptions) { o.JSON = true }, "10.0.0.0/8", 80)
	var in *transport.InputError
	if !errors.As(err, &in) || !strings.Contains(in.Msg, "16777216 addresses to probe, more than 65536") {
		t.Fatalf("scan of a /8: %v, want the cap's usage error", err)
	}
	if lines := jsonLines(t, stdout); len(lines) != 1 || lines[0]["error"] != in.Msg || lines[0]["hosts"] != 0.0 {
		t.Errorf("scan --json of a /8 wrote:\n%s\nwant one summary with the error", stdout)
	} else {
		checkFields(t, lines[0], scanManySummaryFields)
	}
	_, _, err = scanManyTo(t, 0, func(o *ScanOptions) { o.MaxHosts = 1 }, "127.0.0.1,127.0.0.1", int(closed.Port()))
	if !errors.As(err, &in) {
		t.Errorf("two addresses over --max-hosts 1: %v, want a usage error", err)
	}
	// A block of the other family than -4 asks for.
	_, _, err = scanManyTo(t, 0, func(o *ScanOptions) { o.Target.Family = 4 }, "127.0.0.1,::1/128", int(closed.Port()))
	if !errors.As(err, &in) || in.Msg != "::1/128 is not an IPv4 block (-4 was given)" {
		t.Errorf("an IPv6 block with -4: %v", err)
	}
	// A line of a targets file that cannot be scanned is named.
	_, _, err = scanManyTo(t, 0, func(o *ScanOptions) {
		o.Target.Numeric = true
		o.Targets[1].Where = "t.txt:7"
	}, "127.0.0.1,db.example", int(closed.Port()))
	if x := transport.Explain(err); x.Msg != `t.txt:7: -n forbids DNS lookups, and "db.example" is not a numeric address` || !x.Usage {
		t.Errorf("a name with -n on line 7: %+v", x)
	}
}

// scanManySummaryFields are the fields of the summary of a scan of many hosts.
var scanManySummaryFields = map[string]string{"type": "string", "hosts": "number", "addresses": "number",
	"proto": "string", "ports": "number", "open": "number", "closed": "number", "filtered": "number",
	"open_filtered": "number", "unreachable": "number", "elapsed_ms": "number", "interrupted": "bool", "error": "string"}
