package modes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// A policy held against a firewall, in a private network namespace:
// iptables drops every SYN to one port, resets another, prohibits a
// third with ICMP, and loses the first SYN to an open port. Every rule
// gets the verdict the firewall makes true, and the rules that must
// fail do: a prohibited port is not open, a reset is not filtered, and
// a host this machine has no route to is not shown blocked (nothing
// was sent).
func TestCheckFirewall(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dropped, reset, prohibited, lostFirst := porttest.Listener(t), porttest.Listener(t), porttest.Listener(t), porttest.Listener(t)
	for port, action := range map[netip.AddrPort][]string{
		dropped:    {"-j", "DROP"},
		reset:      {"-j", "REJECT", "--reject-with", "tcp-reset"},
		prohibited: {"-j", "REJECT", "--reject-with", "icmp-admin-prohibited"},
		lostFirst:  {"-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP"},
	} {
		netnstest.Run(t, "iptables", append([]string{"-A", "INPUT", "-p", "tcp", "--syn", "--dport", strconv.Itoa(int(port.Port()))}, action...)...)
	}
	// Rules 1-8 hold, 9-11 fail.
	policy := fmt.Sprintf(`127.0.0.1 %[1]d filtered
127.0.0.1 %[1]d blocked
127.0.0.1 %[2]d closed
127.0.0.1 %[2]d blocked
127.0.0.1 %[3]d filtered
127.0.0.1 %[3]d blocked
127.0.0.1 %[4]d open
127.0.0.1 %[1]d,%[2]d,%[3]d tcp blocked
127.0.0.1 %[3]d open
127.0.0.1 %[2]d filtered
198.18.0.1 80 blocked
`, dropped.Port(), reset.Port(), prohibited.Port(), lostFirst.Port())
	stdout, stderr, err := checkTo(t, context.Background(), policy, func(o *CheckOptions) { o.JSON = true })
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Fatalf("check: %v, want exit 1 (rules fail)\n%s%s", err, stdout, stderr)
	}
	pass := map[string]bool{}
	var summary map[string]any
	for _, l := range jsonLines(t, stdout) {
		if l["type"] == "summary" {
			summary = l
			continue
		}
		rule := l["rule"].(string)
		if v, seen := pass[rule]; seen && v != l["pass"].(bool) {
			t.Errorf("%s: records disagree", rule)
		}
		pass[rule] = l["pass"].(bool)
		if rule == "policy:11" && l["why"] != "no route from here" {
			t.Errorf("the host with no route: %v", l)
		}
	}
	for line := 1; line <= 11; line++ {
		rule := "policy:" + strconv.Itoa(line)
		if got, ok := pass[rule]; !ok || got != (line <= 8) {
			t.Errorf("rule %d: pass %v (judged: %v), want %v", line, got, ok, line <= 8)
		}
	}
	if summary["checks"] != 13.0 || summary["passed"] != 10.0 || summary["failed"] != 3.0 {
		t.Errorf("summary %v, want 13 checks: 10 passed, 3 failed", summary)
	}
}
