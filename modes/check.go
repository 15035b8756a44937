package modes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// CheckOptions configure sonde check, which holds a reachability policy
// against the network: every rule's ports probed, each judged PASS or
// FAIL.
type CheckOptions struct {
	Rules       []transport.Rule   // at least one (transport.ParsePolicy)
	Via         transport.Endpoint // -4/-6, -n and -s; its Host and Port are not read
	Timeout     time.Duration      // -w: per probe; 0 for DefaultProbeTimeout
	Retries     int                // --retries: more probes for a silent port
	Concurrency int                // --concurrency; 0 for DefaultScanConcurrency
	MaxHosts    int                // --max-hosts; 0 for DefaultMaxHosts
	JSON        bool               // --json: one object per probe and a summary
	Color       bool               // mark PASS and FAIL in colour (Stdout is a terminal that may have it)

	Stdout io.Writer
	UI     *ui.UI
}

// checkJSON is one line of check --json: one port of one address of a
// rule's host. State is what this address showed; PortState is the
// port's state over every address of the host, which Pass judges.
type checkJSON struct {
	Type      string `json:"type"` // "check"
	Rule      string `json:"rule"` // FILE:LINE
	Host      string `json:"host"`
	Addr      string `json:"addr"`
	Port      int    `json:"port"`
	Proto     string `json:"proto"`
	Expect    string `json:"expect"`
	State     string `json:"state"`
	PortState string `json:"port_state"`
	Pass      bool   `json:"pass"`
	Why       string `json:"why"` // why the address's port is not open; "" when it is
}

// checkSummaryJSON ends check --json, whatever happened.
type checkSummaryJSON struct {
	Type        string  `json:"type"` // "summary"
	Rules       int     `json:"rules"`
	Checks      int     `json:"checks"` // host × port pairs judged
	Passed      int     `json:"passed"`
	Failed      int     `json:"failed"`
	ElapsedMs   float64 `json:"elapsed_ms"`
	Interrupted bool    `json:"interrupted"`
	Error       *string `json:"error"`
}

// expectHolds tells whether a port in state s meets e. blocked is what
// a firewall rule that forbids the port produces: anything but open. For
// TCP that is a reset (closed: REJECT --reject-with tcp-reset) or
// filtered (DROP, or an ICMP prohibition). For UDP it is ICMP port
// unreachable (closed: REJECT's default), an ICMP prohibition (filtered)
// or silence (open|filtered: DROP), the last of which an open service
// that ignores an empty datagram gives too: only a reply proves a UDP
// port reachable. open|filtered (UDP) holds for a reply or silence:
// nothing refused the datagram.
func expectHolds(e transport.Expect, s transport.PortState) bool {
	switch e {
	case transport.ExpectOpen:
		return s == transport.Open
	case transport.ExpectClosed:
		return s == transport.Closed
	case transport.ExpectFiltered:
		return s == transport.Filtered
	case transport.ExpectBlocked:
		return s != transport.Open
	case transport.ExpectOpenFiltered:
		return s == transport.Open || s == transport.OpenFiltered
	}
	return false
}

// checkRow is one host × port of a rule, once every address of it is probed.
type checkRow struct {
	rule    *transport.Rule
	host    *probeHost
	port    int
	results []transport.ProbeResult // by address of the host
	state   transport.PortState     // the best over the addresses
	pass    bool
	note    string // why it failed, or what a pass rests on when that is weak
}

// Check probes every port of every rule (each address of each host of
// it) with the scan engine, judges each host × port on its state over
// every address (open when one accepts), and reports every row, failures
// first, then a summary. It returns nil when every rule holds, an
// *ExitStatus 1 when one fails, and the cause when it could not finish.
// With --json, the last object is always a summary, with an error when
// the check failed.
func Check(ctx context.Context, o *CheckOptions) error {
	r := &checkReport{o: o, start: time.Now()}
	hosts, src, err := checkHosts(ctx, o)
	if err != nil {
		r.summary(context.Cause(ctx) != nil, err)
		return err
	}
	u := o.UI
	timeout := cmp.Or(o.Timeout, DefaultProbeTimeout)
	probes := countProbes(hosts)
	workers := scanWorkers(o.Concurrency, probes, u)
	u.Verbosef(1, "checking %s: %d checks, %s, %d at a time, %s per probe, up to %s per port",
		plural(int64(len(o.Rules)), "rule"), countPorts(hosts), plural(int64(probes), "probe"), workers, timeout,
		plural(int64(o.Retries+1), "probe"))

	results := make([][]transport.ProbeResult, len(hosts))
	known := make([]int, len(hosts))
	for i := range hosts {
		results[i] = make([]transport.ProbeResult, hosts[i].probes())
	}
	failed := runProbes(ctx, hosts, workers, 0, transport.ProbeOptions{Source: src, Timeout: timeout, Retries: o.Retries},
		func(oc probeOutcome) error {
			results[oc.host][oc.i] = oc.res
			known[oc.host]++
			return nil
		})
	for i := range hosts {
		r.judge(&hosts[i], results[i], known[i] == hosts[i].probes(), src)
	}
	interrupted := context.Cause(ctx)
	if failed != nil && interrupted == nil {
		r.summary(false, failed)
		return failed
	}
	if err := r.report(); errors.Is(err, errStdoutClosed) {
		return nil
	} else if err != nil {
		return err
	}
	if err := r.summary(interrupted != nil, interrupted); errors.Is(err, errStdoutClosed) {
		return nil
	} else if err != nil {
		return err
	}
	switch {
	case interrupted != nil:
		return interrupted
	case r.failed > 0:
		return &ExitStatus{Code: 1}
	}
	return nil
}

// CheckFailed ends the --json output of a check that could not start (a
// bad policy line, a bad flag) with a summary that says why, and returns
// err. Without --json it only returns err.
func CheckFailed(o *CheckOptions, err error) error {
	r := checkReport{o: o, start: time.Now()}
	r.summary(false, err)
	return err
}

// checkHosts expands every rule into the hosts to probe (names resolved,
// blocks listed), and resolves the source address.
func checkHosts(ctx context.Context, o *CheckOptions) ([]probeHost, netip.Addr, error) {
	var specs []transport.HostSpec
	var reqs []hostRequest
	for i, rule := range o.Rules {
		for _, h := range rule.Hosts {
			specs = append(specs, h)
			reqs = append(reqs, hostRequest{spec: h, ports: rule.Ports, network: rule.Network, where: rule.Where, rule: i})
		}
	}
	if err := transport.CheckHostCap(specs, cmp.Or(o.MaxHosts, DefaultMaxHosts)); err != nil {
		return nil, netip.Addr{}, err
	}
	a, err := newAddressing(ctx, o.Via, o.Timeout)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	hosts, err := a.expandAll(ctx, reqs)
	return hosts, a.src, err
}

// checkReport judges and reports the rows of a check.
type checkReport struct {
	o              *CheckOptions
	start          time.Time
	rows           []checkRow
	passed, failed int
}

// judge makes the rows of one host, one per port whose every address
// was probed (complete is false when the check was cut short).
func (r *checkReport) judge(h *probeHost, results []transport.ProbeResult, complete bool, src netip.Addr) {
	rule := &r.o.Rules[h.rule]
	n := len(h.addrs)
	for p, port := range h.ports {
		res := results[p*n : (p+1)*n]
		if !complete && slices.ContainsFunc(res, func(x transport.ProbeResult) bool { return x.State == "" }) {
			continue
		}
		for i := range res {
			if res[i].State == transport.Unreachable {
				// check words a port with no route from here itself (see note):
				// nothing was sent, so the rule is not shown to hold.
				res[i].State = transport.Filtered
			}
		}
		row := checkRow{rule: rule, host: h, port: port, results: res, state: res[0].State}
		for _, x := range res {
			if stateRank[x.State] > stateRank[row.state] {
				row.state = x.State
			}
		}
		row.pass = expectHolds(rule.Expect, row.state)
		row.note = r.note(&row, src)
		if row.note != "" && row.pass && row.state == transport.Filtered {
			row.pass = false // nothing left this host: the rule is not shown to hold
		}
		if row.pass {
			r.passed++
		} else {
			r.failed++
		}
		r.rows = append(r.rows, row)
	}
}

// note says why a row failed, or on what a pass rests when that is
// weak: a filtered port this host has no route to (nothing was sent, so
// no firewall was tested: such a row fails), and UDP silence.
func (r *checkReport) note(row *checkRow, src netip.Addr) string {
	if row.state == transport.Filtered {
		for i, x := range row.results {
			if x.State == transport.Filtered && transport.NoRoute(row.host.addrs[i], src) {
				return "no route from this host to " + row.host.addrs[i].String() + ": nothing was sent"
			}
		}
	}
	if row.pass && row.state == transport.OpenFiltered {
		return "no reply: blocked, or a service that ignores an empty datagram"
	}
	if row.pass {
		return ""
	}
	for _, x := range row.results {
		if x.State == row.state && x.Why != "" {
			return x.Why
		}
	}
	return ""
}

// report writes the rows: --json in policy order, one object per
// address; else a table, failures first.
func (r *checkReport) report() error {
	o := r.o
	if o.JSON {
		for _, row := range r.rows {
			for i, x := range row.results {
				rec := checkJSON{Type: "check", Rule: row.rule.Where, Host: row.host.name, Addr: row.host.addrs[i].String(),
					Port: row.port, Proto: row.host.network, Expect: string(row.rule.Expect), State: string(x.State),
					PortState: string(row.state), Pass: row.pass, Why: x.Why}
				if err := writeJSONLine(o.Stdout, rec); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rows := slices.Clone(r.rows)
	slices.SortStableFunc(rows, func(a, b checkRow) int {
		switch {
		case a.pass == b.pass:
			return 0
		case !a.pass:
			return -1
		}
		return 1
	})
	return writeReport(o.Stdout, []byte(r.table(rows)))
}

// table lays out the rows under a header, columns aligned, with an ADDR
// column when a host is a name (each address and its state when it has
// several).
func (r *checkReport) table(rows []checkRow) string {
	cells := make([][]string, 0, len(rows)+1)
	withAddr := false
	for _, row := range rows {
		if len(row.host.addrs) > 1 || row.host.addrs[0].String() != row.host.name {
			withAddr = true
		}
	}
	header := []string{"RESULT", "LINE", "HOST", "PORT", "EXPECT", "STATE"}
	if withAddr {
		header = append(header, "ADDR")
	}
	cells = append(cells, append(header, "NOTE"))
	for _, row := range rows {
		result := "PASS"
		if !row.pass {
			result = "FAIL"
		}
		c := []string{result, strconv.Itoa(row.rule.Line), row.host.name, strconv.Itoa(row.port) + "/" + row.host.network,
			string(row.rule.Expect), string(row.state)}
		if withAddr {
			c = append(c, addrStates(row))
		}
		cells = append(cells, append(c, row.note))
	}
	widths := make([]int, len(cells[0]))
	for _, c := range cells {
		for i, v := range c {
			widths[i] = max(widths[i], len(v))
		}
	}
	fail, pass := color.New(color.FgRed, color.Bold), color.New(color.FgGreen)
	if r.o.Color {
		fail.EnableColor()
		pass.EnableColor()
	} else {
		fail.DisableColor()
		pass.DisableColor()
	}
	var b strings.Builder
	for n, c := range cells {
		var line strings.Builder
		for i, v := range c {
			cell := fmt.Sprintf("%-*s", widths[i], v)
			switch {
			case i == len(c)-1:
				cell = v
			case n > 0 && i == 0 && v == "FAIL":
				cell = fail.Sprint(cell)
			case n > 0 && i == 0:
				cell = pass.Sprint(cell)
			}
			line.WriteString(cell)
			if i < len(c)-1 {
				line.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// addrStates is the ADDR cell of a row: the address, or each address
// and its state when the host has several.
func addrStates(row checkRow) string {
	if len(row.host.addrs) == 1 {
		return row.host.addrs[0].String()
	}
	s := make([]string, len(row.results))
	for i, x := range row.results {
		s[i] = row.host.addrs[i].String() + " " + string(x.State)
	}
	return strings.Join(s, ", ")
}

// summary ends the report: "12 rules, 40 checks: 38 passed, 2 failed";
// the JSON one is always written, the text one not when the check failed
// (main says why) unless it was interrupted.
func (r *checkReport) summary(interrupted bool, failure error) error {
	o := r.o
	elapsed := time.Since(r.start)
	checks := r.passed + r.failed
	if o.JSON {
		sum := checkSummaryJSON{Type: "summary", Rules: len(o.Rules), Checks: checks, Passed: r.passed, Failed: r.failed,
			ElapsedMs: ms(elapsed), Interrupted: interrupted, Error: errorField(failure)}
		return writeJSONLine(o.Stdout, sum)
	}
	if failure != nil && !interrupted {
		return nil
	}
	of := ""
	if interrupted {
		of = " (interrupted)"
	}
	return writeReport(o.Stdout, fmt.Appendf(nil, "%s, %s: %d passed, %d failed%s in %s\n", plural(int64(len(o.Rules)), "rule"),
		plural(int64(checks), "check"), r.passed, r.failed, of, roundDuration(elapsed)))
}
