package modes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultScanConcurrency is how many ports scan probes at once unless
// --concurrency says otherwise; the open-file limit may lower it.
const DefaultScanConcurrency = 256

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
	Host        string        // a name or an address, as the user gave it
	Ports       []int         // sorted, without duplicates (transport.ParsePorts)
	Network     string        // "tcp" or "udp"
	Family      int           // 0, 4 or 6 (-4/-6)
	Numeric     bool          // -n
	Source      string        // -s: local address, "" for any
	Timeout     time.Duration // -w: per port; 0 for DefaultProbeTimeout
	Interval    time.Duration // -i: pause between the starts of two probes
	Concurrency int           // --concurrency; 0 for DefaultScanConcurrency
	Style       ScanStyle
	JSON        bool // --json: one object per port and a summary on Stdout

	Stdout io.Writer
	UI     *ui.UI
}

// scanPortJSON is one line of scan --json: one port, its state and
// service name, and the time the answer took (null without an answer).
type scanPortJSON struct {
	Host    string   `json:"host"`
	Port    int      `json:"port"`
	Proto   string   `json:"proto"`
	State   string   `json:"state"`
	Service string   `json:"service"`
	RTTms   *float64 `json:"rtt_ms"`
}

// scanSummaryJSON ends scan --json with what the text summary says.
type scanSummaryJSON struct {
	Type         string  `json:"type"` // "summary"
	Host         string  `json:"host"`
	Addr         string  `json:"addr"`
	Proto        string  `json:"proto"`
	Ports        int     `json:"ports"` // ports scanned
	Open         int     `json:"open"`
	Closed       int     `json:"closed"`
	Filtered     int     `json:"filtered"`
	OpenFiltered int     `json:"open_filtered"`
	ElapsedMs    float64 `json:"elapsed_ms"`
	Interrupted  bool    `json:"interrupted"`
}

// Scan probes every port of o.Ports on the first address of o.Host, many
// at once, and reports each port in port order as soon as it and every
// port before it are known. It returns nil when a port is open, an
// *ExitStatus 1 when none is, and the interruption when interrupted.
func Scan(ctx context.Context, o *ScanOptions) error {
	u := o.UI
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	addr, src, err := resolveOnce(ctx, o.Host, o.Source, o.Family, o.Numeric, u)
	if err != nil {
		return err
	}
	workers := scanWorkers(o.Concurrency, len(o.Ports), u)
	if o.Style == ScanReport {
		u.Verbosef(1, "scanning %s: %d %s ports, %d at a time, %s timeout", hostAndAddr(o.Host, addr),
			len(o.Ports), o.Network, workers, timeout)
	}
	r := scanReport{o: o, addr: addr, start: time.Now(), table: newScanTable(o)}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	outcomes := probeAll(sctx, o, addr, workers, transport.ProbeOptions{Source: src, Timeout: timeout})
	results := make([]transport.ProbeResult, len(o.Ports))
	known := make([]bool, len(o.Ports))
	next := 0 // the first port not yet reported
	var failed error
	for oc := range outcomes {
		if oc.err != nil {
			if failed == nil {
				failed = oc.err
				cancel(oc.err)
			}
			continue
		}
		results[oc.i], known[oc.i] = oc.res, true
		for ; next < len(o.Ports) && known[next] && failed == nil; next++ {
			if err := r.port(o.Ports[next], results[next]); err != nil {
				failed = err
				cancel(err)
			}
		}
	}
	if cause := context.Cause(ctx); cause != nil {
		r.summary(true)
		return cause
	}
	if errors.Is(failed, errStdoutClosed) {
		return nil // the reader of --json went away: like cat, a quiet end
	}
	if failed != nil {
		return failed
	}
	if err := r.summary(false); errors.Is(err, errStdoutClosed) {
		return nil
	} else if err != nil {
		return err
	}
	if r.counts[transport.Open] == 0 {
		return &ExitStatus{Code: 1}
	}
	return nil
}

// portOutcome is what the probe of o.Ports[i] found, or why it could not
// be made.
type portOutcome struct {
	i   int
	res transport.ProbeResult
	err error
}

// probeAll probes every port of o.Ports on addr with workers goroutines,
// starting the probes in port order (o.Interval apart, if set), and
// sends each outcome as it comes. The channel is closed once every
// worker is done, which happens soon after ctx ends.
func probeAll(ctx context.Context, o *ScanOptions, addr netip.Addr, workers int, popts transport.ProbeOptions) <-chan portOutcome {
	probe := transport.ProbeTCP
	if o.Network == "udp" {
		probe = transport.ProbeUDP
	}
	jobs := make(chan int)
	outcomes := make(chan portOutcome, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, err := probe(ctx, netip.AddrPortFrom(addr, uint16(o.Ports[i])), popts)
				outcomes <- portOutcome{i, res, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range o.Ports {
			if i > 0 && o.Interval > 0 && !sleepCtx(ctx, o.Interval) {
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(outcomes)
	}()
	return outcomes
}

// scanReport writes what a scan found, in the style asked for: the
// table and summary of sonde scan on stdout, the -v lines of -z as
// messages, or JSON lines.
type scanReport struct {
	o       *ScanOptions
	addr    netip.Addr
	start   time.Time
	counts  map[transport.PortState]int
	scanned int
	table   scanTable
}

// scanTable lays out the report of sonde scan, nmap's way: a header, one
// row per port, columns aligned. The widths are fixed before the first
// row, since rows are written as ports become known.
type scanTable struct {
	portWidth, stateWidth, serviceWidth int
	detail                              bool // -vv: a last column of times and reasons
	started                             bool // the header is written
}

func newScanTable(o *ScanOptions) scanTable {
	t := scanTable{portWidth: len("PORT"), stateWidth: len(transport.Filtered), serviceWidth: len("SERVICE"),
		detail: o.UI.Verbosity() >= 2}
	if o.Network == "udp" {
		t.stateWidth = len(transport.OpenFiltered)
	}
	if len(o.Ports) > 0 {
		t.portWidth = max(t.portWidth, len(strconv.Itoa(o.Ports[len(o.Ports)-1])+"/"+o.Network))
	}
	if t.detail {
		for _, p := range o.Ports {
			t.serviceWidth = max(t.serviceWidth, len(transport.ServiceName(p, o.Network)))
		}
	}
	return t
}

// row formats one line of the table, the header first if it is not out yet.
func (t *scanTable) row(port, state, service, detail string) string {
	var b strings.Builder
	if !t.started {
		t.started = true
		b.WriteString(t.line("PORT", "STATE", "SERVICE", "DETAIL"))
	}
	b.WriteString(t.line(port, state, service, detail))
	return b.String()
}

func (t *scanTable) line(port, state, service, detail string) string {
	l := fmt.Sprintf("%-*s  %-*s  ", t.portWidth, port, t.stateWidth, state)
	if t.detail {
		l += fmt.Sprintf("%-*s  %s", t.serviceWidth, service, detail)
	} else {
		l += service
	}
	return strings.TrimRight(l, " ") + "\n"
}

func (r *scanReport) port(port int, res transport.ProbeResult) error {
	o, u := r.o, r.o.UI
	if r.counts == nil {
		r.counts = make(map[transport.PortState]int)
	}
	r.counts[res.State]++
	r.scanned++
	service := transport.ServiceName(port, o.Network)
	switch {
	case o.JSON:
		return writeJSONLine(o.Stdout, scanPortJSON{Host: o.Host, Port: port, Proto: o.Network,
			State: string(res.State), Service: service, RTTms: optionalMs(res.RTT)})
	case o.Style == ScanNetcat:
		if u.Verbosity() < 1 {
			return nil
		}
		where := netip.AddrPortFrom(r.addr, uint16(port)).String() + " (" + o.Network
		if service != "" {
			where += "/" + service
		}
		where += ")"
		if res.State == transport.Open {
			u.Infof("%s: open", where)
		} else {
			u.Infof("%s: %s: %s", where, res.State, res.Why)
		}
	case res.State == transport.Open || u.Verbosity() >= 1:
		detail := res.Why
		if res.State == transport.Open {
			detail = formatMs(res.RTT)
		}
		return writeReport(o.Stdout, []byte(r.table.row(strconv.Itoa(port)+"/"+o.Network, string(res.State), service, detail)))
	}
	return nil
}

// summary reports the counts per state and the time taken; interrupted
// says that not every port was scanned.
func (r *scanReport) summary(interrupted bool) error {
	o := r.o
	elapsed := time.Since(r.start)
	if o.JSON {
		return writeJSONLine(o.Stdout, scanSummaryJSON{Type: "summary", Host: o.Host, Addr: r.addr.String(),
			Proto: o.Network, Ports: r.scanned, Open: r.counts[transport.Open], Closed: r.counts[transport.Closed],
			Filtered: r.counts[transport.Filtered], OpenFiltered: r.counts[transport.OpenFiltered],
			ElapsedMs: ms(elapsed), Interrupted: interrupted})
	}
	if o.Style == ScanNetcat {
		return nil
	}
	states := []transport.PortState{transport.Open, transport.Closed, transport.Filtered}
	if o.Network == "udp" {
		states = append(states, transport.OpenFiltered)
	}
	var counts []string
	for _, s := range states {
		counts = append(counts, fmt.Sprintf("%d %s", r.counts[s], s))
	}
	of := ""
	if interrupted {
		of = fmt.Sprintf(" of %d (interrupted)", len(o.Ports))
	}
	return writeReport(o.Stdout, fmt.Appendf(nil, "%s: %s; %d %s ports%s scanned in %s\n", hostAndAddr(o.Host, r.addr),
		strings.Join(counts, ", "), r.scanned, o.Network, of, roundDuration(elapsed)))
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
