package modes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// Which observed state meets which expectation: blocked is anything but
// open (TCP: closed or filtered; UDP also silence), open|filtered a
// reply or silence.
func TestExpectHolds(t *testing.T) {
	states := []transport.PortState{transport.Open, transport.Closed, transport.Filtered, transport.OpenFiltered}
	for _, c := range []struct {
		expect transport.Expect
		holds  string // the states that meet it
	}{
		{transport.ExpectOpen, "open"},
		{transport.ExpectClosed, "closed"},
		{transport.ExpectFiltered, "filtered"},
		{transport.ExpectBlocked, "closed filtered open|filtered"},
		{transport.ExpectOpenFiltered, "open open|filtered"},
	} {
		var got []string
		for _, s := range states {
			if expectHolds(c.expect, s) {
				got = append(got, string(s))
			}
		}
		if strings.Join(got, " ") != c.holds {
			t.Errorf("%s holds for %v, want %s", c.expect, got, c.holds)
		}
	}
}

// A name with several addresses is judged on the port's state over all
// of them, open when one accepts; the row shows each address.
func TestCheckJudgesEveryAddress(t *testing.T) {
	h := &probeHost{name: "dual.example", addrs: []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")},
		ports: []int{80}, network: "tcp"}
	results := []transport.ProbeResult{{State: transport.Filtered, Why: "no answer"}, {State: transport.Open}}
	for _, c := range []struct {
		expect transport.Expect
		pass   bool
	}{
		{transport.ExpectOpen, true}, {transport.ExpectFiltered, false}, {transport.ExpectBlocked, false},
	} {
		r := &checkReport{o: &CheckOptions{Rules: []transport.Rule{{Expect: c.expect, Line: 1}}}}
		r.judge(h, results, true, netip.Addr{})
		if len(r.rows) != 1 || r.rows[0].state != transport.Open || r.rows[0].pass != c.pass {
			t.Errorf("expect %s of a port open on one address, filtered on the other: %+v, want state open, pass %v", c.expect, r.rows, c.pass)
			continue
		}
		if got := addrStates(r.rows[0]); got != "::1 filtered, 127.0.0.1 open" {
			t.Errorf("the row's addresses: %q", got)
		}
	}
}

// checkTo runs a check of the policy (read as a file would be) on this
// machine's loopback and returns what it wrote.
func checkTo(t *testing.T, ctx context.Context, policy string, tweak func(*CheckOptions)) (stdout, stderr string, err error) {
	t.Helper()
	rules, err := transport.ParsePolicy(strings.NewReader(policy), "policy")
	if err != nil {
		t.Fatal(err)
	}
	var out, errs lineHook
	err = Check(ctx, tweaked(&CheckOptions{Rules: rules, Timeout: 300 * time.Millisecond, Retries: DefaultScanRetries,
		Stdout: &out, UI: ui.New(&errs, 0)}, tweak))
	return out.String(), errs.String(), err
}

// The report: a row per host × port, failures first, then the summary;
// exit 1 when a rule fails, nil when all hold.
func TestCheckReport(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	policy := fmt.Sprintf(`# a policy
127.0.0.1 %d open
127.0.0.1 %d,%d tcp blocked
127.0.0.1 %d closed
`, open.Port(), closed.Port(), open.Port(), closed.Port())
	stdout, stderr, err := checkTo(t, context.Background(), policy, nil)
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Fatalf("a check with a failing rule: %v, want exit 1\n%s", err, stderr)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^RESULT +LINE +HOST +PORT +EXPECT +STATE +NOTE
FAIL +3 +127\.0\.0\.1 +%[2]d/tcp +blocked +open
PASS +2 +127\.0\.0\.1 +%[2]d/tcp +open +open
PASS +3 +127\.0\.0\.1 +%[1]d/tcp +blocked +closed
PASS +4 +127\.0\.0\.1 +%[1]d/tcp +closed +closed
3 rules, 4 checks: 3 passed, 1 failed in \S+
$`, closed.Port(), open.Port()))
	if !want.MatchString(stdout) || stderr != "" {
		t.Errorf("check wrote:\n%s\nstderr %q\nwant %s", stdout, stderr, want)
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Errorf("check without Color wrote escape sequences:\n%q", stdout)
	}

	stdout, _, err = checkTo(t, context.Background(), policy, func(o *CheckOptions) { o.Rules = o.Rules[:1]; o.Color = true })
	if err != nil || !strings.Contains(stdout, "\x1b[32mPASS") {
		t.Errorf("a check whose rules hold: %v, wrote %q, want nil and a green PASS", err, stdout)
	}
}

// The JSON: one record per probe, then a summary, which is written
// whatever happens.
func TestCheckJSON(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open := porttest.Listener(t)
	stdout, _, err := checkTo(t, context.Background(), fmt.Sprintf("127.0.0.1 %d open\n", open.Port()),
		func(o *CheckOptions) { o.JSON = true })
	if err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, stdout)
	if len(lines) != 2 {
		t.Fatalf("check --json wrote:\n%s\nwant a record and a summary", stdout)
	}
	checkFields(t, lines[0], map[string]string{"type": "string", "rule": "string", "host": "string", "addr": "string",
		"port": "number", "proto": "string", "expect": "string", "state": "string", "port_state": "string", "pass": "bool", "why": "string"})
	if l := lines[0]; l["type"] != "check" || l["rule"] != "policy:1" || l["state"] != "open" || l["pass"] != true {
		t.Errorf("record %v", l)
	}
	checkFields(t, lines[1], checkSummaryFields)
	if s := lines[1]; s["rules"] != 1.0 || s["checks"] != 1.0 || s["passed"] != 1.0 || s["failed"] != 0.0 || s["error"] != nil {
		t.Errorf("summary %v", s)
	}

	// Interrupted before the end: the summary says so, the cause is returned.
	ctx, stop := context.WithCancelCause(context.Background())
	stop(&Interrupted{Signal: "interrupt"})
	stdout, _, err = checkTo(t, ctx, fmt.Sprintf("127.0.0.1 %d open\n", open.Port()), func(o *CheckOptions) { o.JSON = true })
	var intr *Interrupted
	lines = jsonLines(t, stdout)
	if !errors.As(err, &intr) || len(lines) != 1 || lines[0]["interrupted"] != true {
		t.Errorf("an interrupted check: %v, wrote:\n%s", err, stdout)
	}

	// Before the check: CheckFailed writes the summary main needs.
	var out strings.Builder
	bad := &transport.InputError{Msg: `p:3: bad expectation "up"`}
	if err := CheckFailed(&CheckOptions{JSON: true, Stdout: &out}, bad); err != bad {
		t.Errorf("CheckFailed returned %v", err)
	}
	if lines := jsonLines(t, out.String()); len(lines) != 1 || lines[0]["error"] != bad.Msg {
		t.Errorf("CheckFailed wrote %q", out.String())
	}
}

var checkSummaryFields = map[string]string{"type": "string", "rules": "number", "checks": "number", "passed": "number",
	"failed": "number", "elapsed_ms": "number", "interrupted": "bool", "error": "string"}
