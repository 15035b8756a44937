package modes

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultScanConcurrency is how many ports scan probes at once unless
// --concurrency says otherwise; the open-file limit may lower it.
const DefaultScanConcurrency = 256

// DefaultScanRetries is how many more probes a silent port gets unless
// --retries says otherwise: a port is filtered (UDP: open|filtered) only
// after three silent probes, so that one lost packet is not a firewall.
const DefaultScanRetries = 2

// reservedFiles are the descriptors kept out of the scan's reach: stdio,
// the poller, the services file, whatever the runtime holds.
const reservedFiles = 64

// ScanStyle chooses how a scan reports.
type ScanStyle int

const (
	// ScanReport is sonde scan: a table of the open ports (-v: every
	// port), then a summary line, on Stdout.
	ScanReport ScanStyle = iota
	// ScanNetcat is sonde -z: silent but for the exit status; -v prints
	// one line per port tried.
	ScanNetcat
)

// ScanOptions configure sonde scan and sonde -z, which probe ports and
// tell which are open; -z reports only through its exit status.
type ScanOptions struct {
	Target      transport.Endpoint // its Port is not read: Ports are the ports
	Ports       []int              // sorted, without duplicates (transport.ParsePorts)
	Network     string             // "tcp" or "udp"
	Timeout     time.Duration      // -w: per probe of a port; 0 for DefaultProbeTimeout
	Retries     int                // --retries: more probes for a silent port (DefaultScanRetries from the command line)
	Interval    time.Duration      // -i: pause between the starts of two probes
	Concurrency int                // --concurrency; 0 for DefaultScanConcurrency
	Style       ScanStyle
	JSON        bool // --json: one object per port and a summary on Stdout

	// Many makes a scan of many hosts (a HOSTS list, a block,
	// --targets), reported host by host; Targets are the hosts, and
	// Target.Host is not read. A command line that names many hosts
	// sets it even when they turn out to be one, so that the form of
	// the report follows from the command line alone.
	Many     bool
	Targets  []ScanTarget
	MaxHosts int // --max-hosts: the most addresses (a name counts one); 0 for DefaultMaxHosts

	Stdout io.Writer
	UI     *ui.UI
}

// scanPortJSON is one line of scan --json: one port of one address, its
// state and service name, and the time the answer took (null without an
// answer).
type scanPortJSON struct {
	Type    string   `json:"type"` // "port"
	Host    string   `json:"host"`
	Addr    string   `json:"addr"`
	Port    int      `json:"port"`
	Proto   string   `json:"proto"`
	State   string   `json:"state"`
	Service string   `json:"service"`
	RTTms   *float64 `json:"rtt_ms"`
}

// scanSummaryJSON ends scan --json, whatever happened: what the text
// summary says, and why the scan failed, if it did.
type scanSummaryJSON struct {
	Type  string   `json:"type"` // "summary"
	Host  string   `json:"host"`
	Addr  *string  `json:"addr"`  // the first address a port was open on, else the first scanned; null when none was
	Addrs []string `json:"addrs"` // every address scanned
	Proto string   `json:"proto"`
	scanTotalsJSON
}

// scanTotalsJSON are the figures that end every scan summary.
type scanTotalsJSON struct {
	Ports        int     `json:"ports"` // ports scanned, each counted once with the best state of its addresses
	Open         int     `json:"open"`
	Closed       int     `json:"closed"`
	Filtered     int     `json:"filtered"`
	OpenFiltered int     `json:"open_filtered"`
	Unreachable  int     `json:"unreachable"` // ports that no address could be probed on: no route from here
	ElapsedMs    float64 `json:"elapsed_ms"`
	Interrupted  bool    `json:"interrupted"`
	Error        *string `json:"error"` // what main says on stderr; null on success
}

func newScanTotalsJSON(counts map[transport.PortState]int, scanned int, elapsed time.Duration, interrupted bool, failure error) scanTotalsJSON {
	return scanTotalsJSON{Ports: scanned, Open: counts[transport.Open], Closed: counts[transport.Closed],
		Filtered: counts[transport.Filtered], OpenFiltered: counts[transport.OpenFiltered],
		Unreachable: counts[transport.Unreachable], ElapsedMs: ms(elapsed),
		Interrupted: interrupted, Error: errorField(failure)}
}

// Scan probes every port of o.Ports on every address of o.Target.Host, many at
// once, and reports each port in port order as soon as it and every port
// before it are known. A port is open when one of the addresses accepts.
// With o.Many, it scans the hosts of o.Targets instead (scanhosts.go).
// It returns nil when a port is open, an *ExitStatus 1 when none is, and
// the interruption when interrupted.
//
// With --json, the last object is always a summary, with an error when
// the scan failed.
func Scan(ctx context.Context, o *ScanOptions) error {
	if o.Many {
		return scanMany(ctx, o)
	}
	start := time.Now()
	addrs, src, err := resolveAll(ctx, o.Target.Host, o.Target.Source, o.Target.Family, o.Target.Numeric, o.Timeout)
	if err != nil {
		r := scanReport{o: o, start: start}
		r.summary(context.Cause(ctx) != nil, err)
		return err
	}
	return scanAddrs(ctx, o, addrs, src)
}

// ScanFailed ends the --json output of a scan that failed before it
// started (a bad port list, a bad flag value) with a summary that says
// why, and returns err. Without --json it only returns err.
func ScanFailed(o *ScanOptions, err error) error {
	if o.Many {
		r := manyReport{o: o, start: time.Now()}
		r.summary(false, err)
		return err
	}
	r := scanReport{o: o, start: time.Now()}
	r.summary(false, err)
	return err
}

// scanAddrs is Scan once o.Target.Host is resolved to addrs (and the source
// address to src, if any): one probe per port and address.
func scanAddrs(ctx context.Context, o *ScanOptions, addrs []netip.Addr, src netip.Addr) error {
	u := o.UI
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	probes := len(o.Ports) * len(addrs)
	workers := scanWorkers(o.Concurrency, probes, u)
	if o.Style == ScanReport {
		u.Verbosef(1, "scanning %s: %s, %d at a time, %s per probe, up to %s per port", hostAndAddrs(o.Target.Host, addrs),
			plural(int64(len(o.Ports)), o.Network+" port"), workers, timeout, plural(int64(o.Retries+1), "probe"))
	}
	r := scanReport{o: o, addrs: addrs, start: time.Now(), table: newScanTable(o.Ports, o.Network, addrs, o.UI.Verbosity() >= 2),
		counts: make(map[transport.PortState]int)}
	hosts := []probeHost{{name: o.Target.Host, addrs: addrs, ports: o.Ports, network: o.Network}}
	results := make([]transport.ProbeResult, probes)
	known := make([]bool, probes)
	next := 0 // the first probe not yet reported
	failed := runProbes(ctx, hosts, workers, o.Interval, transport.ProbeOptions{Source: src, Timeout: timeout, Retries: o.Retries},
		func(oc probeOutcome) error {
			results[oc.i], known[oc.i] = oc.res, true
			for ; next < probes && known[next]; next++ {
				if err := r.probe(next, results[next]); err != nil {
					return err
				}
			}
			return nil
		})
	if failed == nil && r.scanned > 0 && r.counts[transport.Unreachable] == r.scanned {
		// Not one probe left this host: that is no answer about the ports.
		failed = transport.UnreachableError(o.Network, o.Target.Host, o.Ports[0], addrs)
	}
	return endScan(ctx, failed, r.summary, r.counts[transport.Open])
}

// scanReport writes what a scan found, in the style asked for: the
// table and summary of sonde scan on stdout, the -v lines of -z as
// messages, or JSON lines.
type scanReport struct {
	o       *ScanOptions
	addrs   []netip.Addr
	start   time.Time
	counts  map[transport.PortState]int // ports by their state over every address
	scanned int                         // ports whose every address is reported
	best    transport.PortState         // the state of the port being reported, so far
	opened  netip.Addr                  // the first address a port was open on
	table   scanTable
}

// scanTable lays out the report of sonde scan, nmap's way: a header, one
// row per port (and address, when the name has several), columns
// aligned. The widths are fixed before the first row, since rows are
// written as ports become known.
type scanTable struct {
	portWidth, stateWidth, serviceWidth, addrWidth int
	addrs                                          bool // an ADDR column: the name has several addresses
	detail                                         bool // -vv: a last column of times and reasons
	started                                        bool // the header is written
}

func newScanTable(ports []int, network string, addrs []netip.Addr, detail bool) scanTable {
	t := scanTable{portWidth: len("PORT"), stateWidth: len(transport.Filtered), serviceWidth: len("SERVICE"),
		addrWidth: len("ADDR"), addrs: len(addrs) > 1, detail: detail}
	if network == "udp" {
		t.stateWidth = len(transport.OpenFiltered)
	}
	if t.addrs { // one address of a name may be one this host cannot reach
		t.stateWidth = max(t.stateWidth, len(transport.Unreachable))
	}
	if len(ports) > 0 {
		t.portWidth = max(t.portWidth, len(strconv.Itoa(ports[len(ports)-1])+"/"+network))
	}
	if t.addrs || t.detail {
		for _, p := range ports {
			t.serviceWidth = max(t.serviceWidth, len(transport.ServiceName(p, network)))
		}
	}
	for _, a := range addrs {
		t.addrWidth = max(t.addrWidth, len(a.String()))
	}
	return t
}

// row formats one line of the table, the header first if it is not out yet.
func (t *scanTable) row(port, state, service string, addr netip.Addr, detail string) string {
	var b strings.Builder
	if !t.started {
		t.started = true
		b.WriteString(t.line("PORT", "STATE", "SERVICE", "ADDR", "DETAIL"))
	}
	b.WriteString(t.line(port, state, service, addr.String(), detail))
	return b.String()
}

func (t *scanTable) line(port, state, service, addr, detail string) string {
	l := fmt.Sprintf("%-*s  %-*s  ", t.portWidth, port, t.stateWidth, state)
	if !t.addrs && !t.detail {
		return strings.TrimRight(l+service, " ") + "\n"
	}
	l += fmt.Sprintf("%-*s  ", t.serviceWidth, service)
	if t.addrs {
		l += fmt.Sprintf("%-*s  ", t.addrWidth, addr)
	}
	if t.detail {
		l += detail
	}
	return strings.TrimRight(l, " ") + "\n"
}

// stateRank orders the states of one port on several addresses: the port
// counts in the summary with the best of them. Open wins (one address
// accepts: the service is reachable); silence that may hide an open port
// comes next; then a refusal, a definite answer; then filtered.
var stateRank = map[transport.PortState]int{transport.Open: 4, transport.OpenFiltered: 3, transport.Closed: 2, transport.Filtered: 1}

// probe reports probe i of the scan's one host (see probeHost.at), and
// counts its port once every address of the port is reported.
func (r *scanReport) probe(i int, res transport.ProbeResult) error {
	o, u := r.o, r.o.UI
	port, addr := o.Ports[i/len(r.addrs)], r.addrs[i%len(r.addrs)]
	if i%len(r.addrs) == 0 || stateRank[res.State] > stateRank[r.best] {
		r.best = res.State
	}
	if res.State == transport.Open && !r.opened.IsValid() {
		r.opened = addr
	}
	if i%len(r.addrs) == len(r.addrs)-1 {
		r.counts[r.best]++
		r.scanned++
	}
	switch {
	case o.JSON:
		return writePortJSON(o.Stdout, o.Target.Host, addr, port, o.Network, res)
	case o.Style == ScanNetcat:
		netcatLine(u, addr, port, o.Network, res)
	case res.State == transport.Open || u.Verbosity() >= 1:
		return writeReport(o.Stdout, []byte(r.table.probeRow(addr, port, o.Network, res)))
	}
	return nil
}

// writePortJSON writes the --json record of one probe of a scan.
func writePortJSON(w io.Writer, host string, addr netip.Addr, port int, network string, res transport.ProbeResult) error {
	return writeJSONLine(w, scanPortJSON{Type: "port", Host: host, Addr: addr.String(), Port: port,
		Proto: network, State: string(res.State), Service: transport.ServiceName(port, network), RTTms: optionalMs(res.RTT)})
}

// netcatLine is the -v line of sonde -z for one probe.
func netcatLine(u *ui.UI, addr netip.Addr, port int, network string, res transport.ProbeResult) {
	if u.Verbosity() < 1 {
		return
	}
	where := netip.AddrPortFrom(addr, uint16(port)).String() + " (" + network
	if service := transport.ServiceName(port, network); service != "" {
		where += "/" + service
	}
	where += ")"
	if res.State == transport.Open {
		u.Infof("%s: open", where)
	} else {
		u.Infof("%s: %s: %s", where, res.State, res.Why)
	}
}

// probeRow is the table row of one probe: -vv's detail is the time of
// an answer that opened the port, else why it is not open.
func (t *scanTable) probeRow(addr netip.Addr, port int, network string, res transport.ProbeResult) string {
	detail := res.Why
	if res.State == transport.Open {
		detail = formatMs(res.RTT)
	}
	return t.row(strconv.Itoa(port)+"/"+network, string(res.State), transport.ServiceName(port, network), addr, detail)
}

// summary reports the counts per state and the time taken; interrupted
// says that not every port was scanned, and failure why the scan ended
// early. The text summary is left out when the scan failed (main says
// why), but not when it was interrupted; the JSON one is always written.
func (r *scanReport) summary(interrupted bool, failure error) error {
	o := r.o
	elapsed := time.Since(r.start)
	if o.JSON {
		addrs := make([]string, len(r.addrs))
		for i, a := range r.addrs {
			addrs[i] = a.String()
		}
		sum := scanSummaryJSON{Type: "summary", Host: o.Target.Host, Addrs: addrs, Proto: o.Network,
			scanTotalsJSON: newScanTotalsJSON(r.counts, r.scanned, elapsed, interrupted, failure)}
		if r.opened.IsValid() {
			sum.Addr = &addrs[slices.Index(r.addrs, r.opened)]
		} else if len(addrs) > 0 {
			sum.Addr = &addrs[0]
		}
		return writeJSONLine(o.Stdout, sum)
	}
	if o.Style == ScanNetcat || failure != nil && !interrupted || len(r.addrs) == 0 {
		return nil
	}
	return writeReport(o.Stdout, totalLine(hostAndAddrs(o.Target.Host, r.addrs), r.counts, r.scanned, o.Network,
		len(o.Ports), interrupted, elapsed))
}

// errorField is the error of a JSON summary: what main says on stderr,
// or null on success.
func errorField(failure error) *string {
	if failure == nil {
		return nil
	}
	msg := transport.Explain(failure).Msg
	return &msg
}

// totalLine is the last line of a scan's report: "WHO: 1 open, 3
// closed, 0 filtered; 4 tcp ports scanned in 2ms", with "of TOTAL
// (interrupted)" when cut short.
func totalLine(who string, counts map[transport.PortState]int, scanned int, network string, total int, interrupted bool, elapsed time.Duration) []byte {
	of := ""
	if interrupted {
		of = fmt.Sprintf(" of %d (interrupted)", total)
	}
	return fmt.Appendf(nil, "%s: %s; %s%s scanned in %s\n", who, stateCounts(counts, network), plural(int64(scanned), network+" port"), of,
		roundDuration(elapsed))
}

// stateCounts words the ports of each state: "1 open, 3 closed, 0
// filtered", and open|filtered for UDP.
func stateCounts(counts map[transport.PortState]int, network string) string {
	states := []transport.PortState{transport.Open, transport.Closed, transport.Filtered}
	if network == "udp" {
		states = append(states, transport.OpenFiltered)
	}
	if counts[transport.Unreachable] > 0 {
		states = append(states, transport.Unreachable)
	}
	var b []string
	for _, s := range states {
		b = append(b, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(b, ", ")
}

// hostAndAddrs names a target with every address scanned:
// "localhost (::1, 127.0.0.1)", or just the address the user gave.
func hostAndAddrs(host string, addrs []netip.Addr) string {
	if len(addrs) == 1 {
		return hostAndAddr(host, addrs[0])
	}
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return host + " (" + strings.Join(s, ", ") + ")"
}

// scanWorkers decides how many probes run at once: what was asked (or
// the default), no more than there are ports, and within the open-file
// limit, each probe holding one socket.
func scanWorkers(requested, ports int, u *ui.UI) int {
	n := cmp.Or(requested, DefaultScanConcurrency)
	if limit, ok := transport.OpenFileLimit(); ok {
		most := max(limit-reservedFiles, 1)
		if n > most {
			if requested > 0 {
				u.Warnf("--concurrency %d is more than the open-file limit (%d) allows: using %d", requested, limit, most)
			}
			n = most
		}
	}
	return max(min(n, ports), 1)
}
