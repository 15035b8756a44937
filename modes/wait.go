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

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultWaitTimeout is how long sonde wait waits unless --timeout says.
const DefaultWaitTimeout = 30 * time.Second

// DefaultWaitInterval is the pause after the first failed attempt; each
// further pause is half as long again, up to maxWaitInterval.
const DefaultWaitInterval = 100 * time.Millisecond

// maxWaitInterval caps the backoff, so a port that opens is noticed
// within a second, as the `until nc -z ...; do sleep 1; done` loops that
// sonde wait replaces would (a longer -i is kept as it is).
const maxWaitInterval = time.Second

// WaitOptions configure sonde wait, which tries to connect until the port
// accepts or the time is up.
type WaitOptions struct {
	Target transport.Endpoint

	// Timeout bounds the whole wait (--timeout); 0 waits until interrupted.
	Timeout time.Duration
	// Interval is the first pause between attempts (-i); 0 for
	// DefaultWaitInterval.
	Interval time.Duration
	// AttemptTimeout bounds each connect (-w); 0 for DefaultProbeTimeout.
	AttemptTimeout time.Duration
	JSON           bool // --json: one object per attempt and a summary on Stdout

	Stdout io.Writer
	UI     *ui.UI
}

// waitAttemptJSON is one line of wait --json, one per attempt; Attempts
// is the number of this attempt, Addr the address that accepted (null
// until one does).
type waitAttemptJSON struct {
	Type      string  `json:"type"` // "attempt"
	Host      string  `json:"host"`
	Port      int     `json:"port"`
	Addr      *string `json:"addr"`
	State     string  `json:"state"`
	Attempts  int     `json:"attempts"`
	ElapsedMs float64 `json:"elapsed_ms"`
}

// waitSummaryJSON ends wait --json, however the wait ends; Error says why
// it failed (the exit status is not 0), else it is null.
type waitSummaryJSON struct {
	Type      string  `json:"type"` // "summary"
	Host      string  `json:"host"`
	Port      int     `json:"port"`
	Addr      *string `json:"addr"`
	State     string  `json:"state"` // "open", "timeout", "interrupted" or "error"
	Attempts  int     `json:"attempts"`
	ElapsedMs float64 `json:"elapsed_ms"`
	Error     *string `json:"error"`
}

// addrJSON is a's address, or null for the invalid Addr.
func addrJSON(a netip.Addr) *string {
	if !a.IsValid() {
		return nil
	}
	s := a.String()
	return &s
}

// stateUnresolved is the state of an attempt whose name did not resolve:
// a service's name may appear only once it runs (containers), so wait
// keeps trying.
const stateUnresolved = "unresolved"

// Wait connects to the port again and again, with backoff, until it
// accepts a connection (nil), the timeout passes (*ExitStatus 1, after
// saying why) or ctx ends. The name is resolved afresh for each attempt.
func Wait(ctx context.Context, o *WaitOptions) error {
	u := o.UI
	interval := cmp.Or(o.Interval, DefaultWaitInterval)
	capInterval := max(interval, maxWaitInterval)
	attemptTimeout := cmp.Or(o.AttemptTimeout, DefaultProbeTimeout)
	start := time.Now()
	var deadline time.Time
	if o.Timeout > 0 {
		deadline = start.Add(o.Timeout)
	}
	target := o.Target.HostPort()

	var lastWhy, lastHint string
	// summary ends the wait; failed says why it failed ("" when it did not).
	summary := func(state string, attempts int, accepted netip.Addr, failed string) error {
		if !o.JSON {
			if state == "interrupted" { // the text summary of Ctrl-C, with -v
				u.Verbosef(1, "%s did not accept a connection before the interruption (%s in %s)",
					target, plural(int64(attempts), "attempt"), roundDuration(time.Since(start)))
			}
			return nil
		}
		sum := waitSummaryJSON{Type: "summary", Host: o.Target.Host, Port: o.Target.Port, Addr: addrJSON(accepted),
			State: state, Attempts: attempts, ElapsedMs: ms(time.Since(start))}
		if failed != "" {
			sum.Error = &failed
		}
		return writeJSONLine(o.Stdout, sum)
	}
	for attempt := 1; ; attempt++ {
		timeout := attemptTimeout
		lookup := o.AttemptTimeout // a lookup is bounded by -w when given, and always by --timeout
		byTimeout := false         // what is left of --timeout is the lookup's bound
		if !deadline.IsZero() {
			left := max(time.Until(deadline), time.Millisecond)
			timeout = min(timeout, left)
			byTimeout = lookup == 0 || left < lookup
			lookup = min(cmp.Or(lookup, left), left)
		}
		state, accepted, why, hint, err := waitAttempt(ctx, o, max(timeout, time.Millisecond), lookup, byTimeout)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				summary("interrupted", attempt-1, accepted, failure(cause))
				return cause
			}
			summary("error", attempt-1, accepted, failure(err))
			return err
		}
		elapsed := time.Since(start)
		if o.JSON {
			if err := writeJSONLine(o.Stdout, waitAttemptJSON{Type: "attempt", Host: o.Target.Host, Port: o.Target.Port, Addr: addrJSON(accepted),
				State: state, Attempts: attempt, ElapsedMs: ms(elapsed)}); err != nil {
				return quietIfClosed(err)
			}
		}
		if state == string(transport.Open) {
			if !o.JSON { // the report: the one line of a wait that succeeded
				return quietIfClosed(writeLine(o.Stdout, "%s accepts connections%s: attempt %d, after %s",
					target, onAddr(o.Target.Host, accepted, o.Target.Port), attempt, roundDuration(elapsed)))
			}
			return quietIfClosed(summary(state, attempt, accepted, ""))
		}
		u.Verbosef(1, "attempt %d: %s %s: %s", attempt, target, state, why)
		lastWhy, lastHint = why, hint

		pause := waitPause(interval, capInterval, attempt)
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				msg := fmt.Sprintf("%s did not accept a connection within %s (%s; the last one: %s)",
					target, o.Timeout, plural(int64(attempt), "attempt"), lastWhy)
				u.Errorf("%s", msg)
				if lastHint != "" {
					u.Hintf("%s", lastHint)
				}
				if err := summary("timeout", attempt, accepted, msg); errors.Is(err, errStdoutClosed) {
					return nil
				}
				return &ExitStatus{Code: 1}
			}
			pause = min(pause, left) // one last attempt right at the deadline
		}
		if !sleepCtx(ctx, pause) {
			summary("interrupted", attempt, accepted, failure(context.Cause(ctx)))
			return context.Cause(ctx)
		}
	}
}

// waitPause is the pause after attempt n: interval, then half as long
// again each time, at most capInterval.
func waitPause(interval, capInterval time.Duration, n int) time.Duration {
	d := float64(interval)
	for range n - 1 {
		d *= 1.5
		if d >= float64(capInterval) {
			return capInterval
		}
	}
	return time.Duration(d)
}

// waitAttempt resolves the host and probes its addresses in turn until
// one accepts, which it returns. Else it returns the state of the last
// address tried, why each one is not open and what to try; err is for
// failures that retrying cannot mend. A lookup takes at most lookup
// (0: no bound), which is what is left of --timeout when lastLookup is
// set; a probe, timeout.
func waitAttempt(ctx context.Context, o *WaitOptions, timeout, lookup time.Duration, lastLookup bool) (state string, accepted netip.Addr, why, hint string, err error) {
	addrs, src, err := resolveAll(ctx, o.Target.Host, o.Target.Source, o.Target.Family, o.Target.Numeric, lookup)
	if err != nil {
		var re *transport.ResolveError
		if errors.As(err, &re) && re.Host == o.Target.Host {
			if lastLookup && re.Timeout > 0 {
				re.Bound, re.Timeout = "--timeout", o.Timeout // the whole wait ran out, not one -w
			}
			x := transport.Explain(err)
			return stateUnresolved, accepted, x.Msg, x.Hint, nil
		}
		return "", accepted, "", "", err
	}
	var whys []string
	for _, a := range addrs {
		res, err := transport.ProbeTCP(ctx, netip.AddrPortFrom(a, uint16(o.Target.Port)), transport.ProbeOptions{Source: src, Timeout: timeout})
		if err != nil {
			return "", accepted, "", "", err
		}
		if res.State == transport.Open {
			return string(res.State), a, "", "", nil
		}
		if state == "" || res.State != transport.Unreachable { // another address decides
			state = string(res.State)
		}
		if len(addrs) > 1 {
			whys = append(whys, a.String()+": "+res.Why)
		} else {
			whys = append(whys, res.Why)
		}
	}
	switch state {
	case string(transport.Closed):
		hint = "nothing listens on port " + strconv.Itoa(o.Target.Port) + " yet; is the service running, and on this port?"
	case string(transport.Filtered):
		hint = "the host may be down, or a firewall may be silently dropping packets"
	case string(transport.Unreachable): // every address: not one probe left this host
		hint = "this machine has no route to " + o.Target.Host + "; check `ip route`"
		if !slices.ContainsFunc(addrs, netip.Addr.Is4) {
			hint = "connect over IPv4: add -4, or give an IPv4 address"
		}
	}
	return state, accepted, strings.Join(whys, "; "), hint, nil
}

// onAddr names the address that accepted when the user gave a name: " on
// 127.0.0.1:8080" (a name may have several addresses), "" for an address.
func onAddr(host string, addr netip.Addr, port int) string {
	if hostAndAddr(host, addr) == addr.String() {
		return ""
	}
	return " on " + netip.AddrPortFrom(addr, uint16(port)).String()
}

// WaitNotStarted ends wait --json with its summary, whose error says why
// the wait could not start (a mistake in the command line, found before
// Wait was called), so that a reader of the JSON is never left without
// one. It returns err.
func WaitNotStarted(o *WaitOptions, err error) error {
	if o.JSON {
		failed := failure(err)
		writeJSONLine(o.Stdout, waitSummaryJSON{Type: "summary", Host: o.Target.Host, Port: o.Target.Port, State: "error", Error: &failed})
	}
	return err
}
