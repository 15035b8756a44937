package modes

// sonde scan of many hosts: a HOSTS list, CIDR blocks, --targets. One
// engine (probeplan.go) and one --concurrency for every host; the report
// is grouped by host.

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// DefaultMaxHosts is how many addresses a scan or check takes unless
// --max-hosts says otherwise: a /16, so that a typo (/8 for /24) does not
// start millions of probes.
const DefaultMaxHosts = 65536

// ScanTarget is one entry of a scan of many hosts: a name, an address or
// a block, and its own ports, if it has some.
type ScanTarget struct {
	Host  transport.HostSpec
	Ports []int  // nil: ScanOptions.Ports
	Where string // FILE:LINE of a --targets file; "" on the command line
}

// scanSummaryManyJSON ends scan --json of many hosts: the totals.
type scanSummaryManyJSON struct {
	Type      string `json:"type"`      // "summary"
	Hosts     int    `json:"hosts"`     // hosts scanned (a block counts each address)
	Addresses int    `json:"addresses"` // addresses scanned (a name may have several)
	Proto     string `json:"proto"`
	scanTotalsJSON
}

// scanMany is Scan of o.Targets: every target expanded to its hosts
// (names resolved, blocks listed), one host per name however often it
// is listed, and every host probed by one pool of workers.
func scanMany(ctx context.Context, o *ScanOptions) error {
	r := &manyReport{o: o, start: time.Now(), counts: make(map[transport.PortState]int)}
	hosts, src, err := scanHosts(ctx, o)
	if err != nil {
		r.summary(context.Cause(ctx) != nil, err)
		return err
	}
	r.hosts = hosts
	u := o.UI
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	probes := countProbes(hosts)
	workers := scanWorkers(o.Concurrency, probes, u)
	if o.Style == ScanReport {
		u.Verbosef(1, "scanning %s (%s): %s, %d at a time, %s per probe, up to %s per port",
			plural(int64(len(hosts)), "host"), countAddresses(r.addresses()), plural(int64(probes), o.Network+" probe"),
			workers, timeout, plural(int64(o.Retries+1), "probe"))
	}
	r.results = make([][]transport.ProbeResult, len(hosts))
	r.known = make([]int, len(hosts))
	failed := runProbes(ctx, hosts, workers, o.Interval, transport.ProbeOptions{Source: src, Timeout: timeout, Retries: o.Retries}, r.probe)
	return endScan(ctx, failed, r.summary, r.counts[transport.Open])
}

// scanHosts expands o.Targets into the hosts to probe, and resolves the
// source address.
func scanHosts(ctx context.Context, o *ScanOptions) ([]probeHost, netip.Addr, error) {
	specs := make([]transport.HostSpec, len(o.Targets))
	for i, t := range o.Targets {
		specs[i] = t.Host
	}
	if err := transport.CheckHostCap(specs, cmp.Or(o.MaxHosts, DefaultMaxHosts)); err != nil {
		return nil, netip.Addr{}, err
	}
	a, err := newAddressing(ctx, o.Target, o.Timeout)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	reqs := make([]hostRequest, len(o.Targets))
	for i, t := range o.Targets {
		reqs[i] = hostRequest{spec: t.Host, ports: t.Ports, network: o.Network, where: t.Where}
		if t.Ports == nil {
			reqs[i].ports = o.Ports
		}
	}
	hosts, err := a.expandAll(ctx, reqs)
	if err != nil {
		return nil, a.src, err
	}
	return mergeHosts(hosts), a.src, nil
}

// mergeHosts makes one host of those of the same name, in the order
// they first come, with the ports of all of them.
func mergeHosts(hosts []probeHost) []probeHost {
	first := make(map[string]int, len(hosts))
	out := hosts[:0]
	for _, h := range hosts {
		i, seen := first[h.name]
		if !seen {
			first[h.name] = len(out)
			out = append(out, h)
			continue
		}
		if !slices.Equal(out[i].ports, h.ports) {
			merged := slices.Concat(out[i].ports, h.ports)
			slices.Sort(merged)
			out[i].ports = slices.Compact(merged)
		}
	}
	return out
}

// manyReport writes what a scan of many hosts found: host by host, in
// the order given, as soon as a host and every host before it are
// known. A host's results are kept until it is reported.
type manyReport struct {
	o       *ScanOptions
	start   time.Time
	hosts   []probeHost
	results [][]transport.ProbeResult // by host, in probeHost.at order
	known   []int                     // probes known, by host
	next    int                       // the first host not yet reported
	counts  map[transport.PortState]int
	scanned int // ports scanned, each host's once
}

func (r *manyReport) addresses() int {
	n := 0
	for _, h := range r.hosts {
		n += len(h.addrs)
	}
	return n
}

// probe records an outcome and reports every host it completes.
func (r *manyReport) probe(oc probeOutcome) error {
	if r.results[oc.host] == nil {
		r.results[oc.host] = make([]transport.ProbeResult, r.hosts[oc.host].probes())
	}
	r.results[oc.host][oc.i] = oc.res
	r.known[oc.host]++
	for ; r.next < len(r.hosts) && r.known[r.next] == r.hosts[r.next].probes(); r.next++ {
		err := r.host(&r.hosts[r.next], r.results[r.next])
		r.results[r.next] = nil
		if err != nil {
			return err
		}
	}
	return nil
}

// host reports one host: with --json every probe; -z's -v lines; or a
// heading with the host's counts and a table of its open ports (-v:
// every host, every port).
func (r *manyReport) host(h *probeHost, results []transport.ProbeResult) error {
	o, u := r.o, r.o.UI
	counts := make(map[transport.PortState]int)
	for p := range h.ports {
		best := results[p*len(h.addrs)].State
		for _, res := range results[p*len(h.addrs) : (p+1)*len(h.addrs)] {
			if stateRank[res.State] > stateRank[best] {
				best = res.State
			}
		}
		counts[best]++
		r.counts[best]++
		r.scanned++
	}
	switch {
	case o.JSON:
		for i, res := range results {
			port, addr := h.at(i)
			if err := writePortJSON(o.Stdout, h.name, addr, port, h.network, res); err != nil {
				return err
			}
		}
		return nil
	case o.Style == ScanNetcat:
		for i, res := range results {
			port, addr := h.at(i)
			netcatLine(u, addr, port, h.network, res)
		}
		return nil
	case counts[transport.Open] == 0 && u.Verbosity() < 1:
		return nil // nothing to say
	}
	b := fmt.Appendf(nil, "%s: %s\n", hostAndAddrs(h.name, h.addrs), stateCounts(counts, h.network))
	table := newScanTable(h.ports, h.network, h.addrs, u.Verbosity() >= 2)
	for i, res := range results {
		if res.State == transport.Open || u.Verbosity() >= 1 {
			port, addr := h.at(i)
			b = append(b, table.probeRow(addr, port, h.network, res)...)
		}
	}
	return writeReport(o.Stdout, append(b, '\n'))
}

// summary ends the report with the totals, as scanReport.summary does
// for one host.
func (r *manyReport) summary(interrupted bool, failure error) error {
	o := r.o
	elapsed := time.Since(r.start)
	if o.JSON {
		sum := scanSummaryManyJSON{Type: "summary", Hosts: len(r.hosts), Addresses: r.addresses(), Proto: o.Network,
			scanTotalsJSON: newScanTotalsJSON(r.counts, r.scanned, elapsed, interrupted, failure)}
		return writeJSONLine(o.Stdout, sum)
	}
	if o.Style == ScanNetcat || failure != nil && !interrupted || len(r.hosts) == 0 {
		return nil
	}
	return writeReport(o.Stdout, totalLine(plural(int64(len(r.hosts)), "host"), r.counts, r.scanned, o.Network,
		countPorts(r.hosts), interrupted, elapsed))
}

// countPorts is the number of ports of hosts, each host's counted once.
func countPorts(hosts []probeHost) int {
	n := 0
	for _, h := range hosts {
		n += len(h.ports)
	}
	return n
}

// countAddresses words a number of addresses.
func countAddresses(n int) string {
	if n == 1 {
		return "1 address"
	}
	return fmt.Sprintf("%d addresses", n)
}
