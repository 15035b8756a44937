package modes

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// 1,024 hosts × 4 ports, in a private network namespace where all of
// 127.0.0.0/8 is this test's loopback: exactly the listeners are open,
// every other host and port closed, whatever the concurrency; the report
// names only the hosts that have an open port.
func TestScanManyHosts(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	t.Cleanup(func() { goleak.VerifyNone(t) })
	listeners := []netip.AddrPort{porttest.ListenerAt(t, "127.1.0.5:0"), porttest.ListenerAt(t, "127.1.2.9:0"),
		porttest.ListenerAt(t, "127.1.3.255:0")}
	ports := []int{int(porttest.ClosedPort(t).Port())}
	want := map[netip.AddrPort]bool{}
	for _, l := range listeners {
		ports = append(ports, int(l.Port()))
		want[l] = true
	}
	for _, workers := range []int{1, 0} {
		stdout, stderr, err := scanManyTo(t, 0, func(o *ScanOptions) { o.JSON, o.Concurrency = true, workers },
			"127.1.0.0/22", ports...)
		if err != nil {
			t.Fatalf("scan: %v\n%s", err, stderr)
		}
		lines := jsonLines(t, stdout)
		if len(lines) != 1024*4+1 {
			t.Fatalf("--concurrency %d: %d JSON lines, want %d", workers, len(lines), 1024*4+1)
		}
		seen := map[netip.AddrPort]bool{}
		for _, l := range lines[:len(lines)-1] {
			ap := netip.AddrPortFrom(netip.MustParseAddr(l["addr"].(string)), uint16(l["port"].(float64)))
			if seen[ap] || l["host"] != l["addr"] {
				t.Errorf("--concurrency %d: record %v twice, or its host is not its address", workers, l)
			}
			seen[ap] = true
			if (l["state"] == "open") != want[ap] || l["state"] != "open" && l["state"] != "closed" {
				t.Errorf("--concurrency %d: %s is %v", workers, ap, l["state"])
			}
		}
		if s := lines[len(lines)-1]; s["hosts"] != 1024.0 || s["ports"] != 4096.0 || s["open"] != 3.0 || s["closed"] != 4093.0 {
			t.Errorf("--concurrency %d: summary %v", workers, s)
		}
	}

	stdout, _, err := scanManyTo(t, 0, nil, "127.1.0.0/22", ports...)
	if err != nil {
		t.Fatal(err)
	}
	headings := regexp.MustCompile(`(?m)^(\S+): 1 open, 3 closed, 0 filtered$`).FindAllStringSubmatch(stdout, -1)
	if len(headings) != 3 || headings[0][1] != "127.1.0.5" || headings[1][1] != "127.1.2.9" || headings[2][1] != "127.1.3.255" {
		t.Errorf("the report names %v, want the three hosts with a listener, in address order:\n%s", headings, stdout)
	}
	if !strings.HasSuffix(stdout, "\n\n1024 hosts: 3 open, 4093 closed, 0 filtered; 4096 tcp ports scanned in "+
		regexp.MustCompile(`\S+\n$`).FindString(stdout)) {
		t.Errorf("the report does not end with the total:\n%s", stdout)
	}
	for _, l := range listeners {
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^%s:.*\nPORT.*\n%d/tcp +open\b`, regexp.QuoteMeta(l.Addr().String()), l.Port())).MatchString(stdout) {
			t.Errorf("no open row for %s under its host:\n%s", l, stdout)
		}
	}
}
