package modes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// scanTo runs a scan of ports on 127.0.0.1 and returns what it wrote.
func scanTo(t *testing.T, ctx context.Context, verbosity int, tweak func(*ScanOptions), ports ...netip.AddrPort) (stdout, stderr string, err error) {
	t.Helper()
	var out, errs lineHook
	o := &ScanOptions{Target: transport.Endpoint{Host: "127.0.0.1"}, Network: "tcp", Timeout: 200 * time.Millisecond,
		Stdout: &out, UI: ui.New(&errs, verbosity)}
	for _, p := range ports {
		o.Ports = append(o.Ports, int(p.Port()))
	}
	slices.Sort(o.Ports) // as transport.ParsePorts returns them
	err = Scan(ctx, tweaked(o, tweak))
	return out.String(), errs.String(), err
}

// sonde scan reports on stdout: a table of the open ports (-v: every
// port) under a header, then the summary; stderr has only messages.
func TestScanReport(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	ports := fmt.Sprintf("%d,%d", open.Port(), closed.Port())

	stdout, stderr, err := scanTo(t, context.Background(), 0, nil, open, closed)
	if err != nil {
		t.Fatalf("scan %s: %v, want nil (a port is open)", ports, err)
	}
	if stderr != "" {
		t.Errorf("scan wrote %q to stderr; the report goes to stdout, and there was nothing else to say", stderr)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^PORT +STATE +SERVICE\n`+
		`%d/tcp +open( +\S+)?\n`+
		`127\.0\.0\.1: 1 open, 1 closed, 0 filtered; 2 tcp ports scanned in \S+\n$`, open.Port()))
	if !want.MatchString(stdout) {
		t.Errorf("scan %s wrote:\n%s\nwant a header, the open port, then the summary: %s", ports, stdout, want)
	}
	if strings.Contains(stdout, "sonde: ") {
		t.Errorf("the report has the prefix of messages:\n%s", stdout)
	}

	// -v lists the closed port too, in port order, in aligned columns;
	// the line that says what is scanned is a message.
	stdout, stderr, _ = scanTo(t, context.Background(), 1, nil, open, closed)
	if !strings.HasPrefix(stderr, "sonde: scanning 127.0.0.1: 2 tcp ports, 2 at a time, 200ms per probe, up to 1 probe per port") {
		t.Errorf("scan -v wrote %q to stderr, want the scanning message", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("scan -v wrote:\n%s\nwant a header, two ports and a summary", stdout)
	}
	states := map[uint16]string{open.Port(): "open", closed.Port(): "closed"}
	for i, p := range []uint16{min(open.Port(), closed.Port()), max(open.Port(), closed.Port())} {
		if want := regexp.MustCompile(fmt.Sprintf(`^%d/tcp +%s\b`, p, states[p])); !want.MatchString(lines[i+1]) {
			t.Errorf("scan -v line %d = %q, want %s", i+2, lines[i+1], want)
		}
		if col := strings.Index(lines[0], "STATE"); !strings.HasPrefix(lines[i+1][col:], states[p]) {
			t.Errorf("scan -v: the state of line %q is not under the STATE of %q", lines[i+1], lines[0])
		}
	}
}

func TestScanNothingOpen(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	stdout, stderr, err := scanTo(t, context.Background(), 0, nil, closed)
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Errorf("scan of a closed port: %v, want exit status 1", err)
	}
	if !strings.HasPrefix(stdout, "127.0.0.1: 0 open, 1 closed, 0 filtered; 1 tcp port scanned in ") || stderr != "" {
		t.Errorf("scan of a closed port wrote:\n%s\nand on stderr %q\nwant only the summary, on stdout", stdout, stderr)
	}
}

// A name with several addresses is scanned on each: a port open on one
// of them is open, whichever comes first, and the report names the
// address of each row. The service listens on 127.0.0.1 alone, and ::1
// comes first, as a dual-stack localhost resolves.
func TestScanEveryAddress(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open := porttest.Listener(t)
	addrs := []netip.Addr{netip.IPv6Loopback(), open.Addr()}
	scan := func(verbosity int, tweak func(*ScanOptions)) (stdout, stderr string, err error) {
		var out, errs strings.Builder
		o := &ScanOptions{Target: transport.Endpoint{Host: "dual.test"}, Network: "tcp", Timeout: 5 * time.Second, Ports: []int{int(open.Port())},
			Stdout: &out, UI: ui.New(&errs, verbosity)}
		err = scanAddrs(context.Background(), tweaked(o, tweak), addrs, netip.Addr{})
		return out.String(), errs.String(), err
	}

	// -z: success, as nc -z, though the first address refuses.
	_, stderr, err := scan(1, func(o *ScanOptions) { o.Style = ScanNetcat })
	if err != nil {
		t.Errorf("-z of a port open on the second address only: %v, want success", err)
	}
	for _, want := range []string{fmt.Sprintf("sonde: [::1]:%d (tcp): closed: ", open.Port()),
		fmt.Sprintf("sonde: %s (tcp): open\n", open)} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-zv wrote:\n%s\nwant a line for each address: %q", stderr, want)
		}
	}

	// scan: a row per address under an ADDR column; the port counts once, open.
	stdout, _, err := scan(1, nil)
	if err != nil {
		t.Errorf("scan: %v, want success", err)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^PORT +STATE +SERVICE +ADDR\n`+
		`%[1]d/tcp +closed +.*::1\n`+
		`%[1]d/tcp +open +.*127\.0\.0\.1\n`+
		`dual\.test \(::1, 127\.0\.0\.1\): 1 open, 0 closed, 0 filtered; 1 tcp port scanned in \S+\n$`, open.Port()))
	if !want.MatchString(stdout) {
		t.Errorf("scan -v wrote:\n%s\nwant %s", stdout, want)
	}

	// --json: a record per address, each with its addr; the summary lists them.
	stdout, _, _ = scan(0, func(o *ScanOptions) { o.JSON = true })
	lines := jsonLines(t, stdout)
	if len(lines) != 3 || lines[0]["addr"] != "::1" || lines[0]["state"] != "closed" ||
		lines[1]["addr"] != "127.0.0.1" || lines[1]["state"] != "open" ||
		lines[2]["open"] != 1.0 || lines[2]["ports"] != 1.0 || fmt.Sprint(lines[2]["addrs"]) != "[::1 127.0.0.1]" {
		t.Errorf("scan --json wrote:\n%s\nwant ::1 closed, 127.0.0.1 open, a summary of 1 open port on both", stdout)
	}
}

// sonde -z prints nothing unless asked, and with -v one line per port.
func TestScanNetcatStyle(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	netcat := func(o *ScanOptions) { o.Style = ScanNetcat }
	stdout, stderr, err := scanTo(t, context.Background(), 0, netcat, open, closed)
	if err != nil || stdout != "" || stderr != "" {
		t.Errorf("-z: %v, stdout %q, stderr %q; want success and silence", err, stdout, stderr)
	}
	stdout, stderr, err = scanTo(t, context.Background(), 1, netcat, closed)
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 || stdout != "" {
		t.Errorf("-z of a closed port: %v, stdout %q; want exit status 1 and no stdout", err, stdout)
	}
	if want := fmt.Sprintf("sonde: %s (tcp): closed: connection refused\n", closed); stderr != want {
		t.Errorf("-zv of a closed port wrote %q, want %q", stderr, want)
	}
	_, stderr, _ = scanTo(t, context.Background(), 1, netcat, open)
	if want := fmt.Sprintf("sonde: %s (tcp): open\n", open); stderr != want {
		t.Errorf("-zv of an open port wrote %q, want %q", stderr, want)
	}
}

func TestScanUDP(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	echo, closed, silent := porttest.UDPEcho(t, nil), porttest.ClosedPort(t), porttest.SilentUDP(t)
	// A second each, and the retries a scan makes by default: the echo's
	// reply must not be missed on a loaded machine.
	stdout, stderr, err := scanTo(t, context.Background(), 0, func(o *ScanOptions) {
		o.Network, o.JSON, o.Timeout, o.Retries = "udp", true, time.Second, DefaultScanRetries
	}, echo, closed, silent)
	if err != nil {
		t.Fatalf("scan -u: %v (stderr %q)", err, stderr)
	}
	got := map[int]string{}
	for _, l := range jsonLines(t, stdout) {
		if l["type"] == "port" {
			got[int(l["port"].(float64))] = l["state"].(string)
		}
	}
	want := map[int]string{int(echo.Port()): "open", int(closed.Port()): "closed", int(silent.Port()): "open|filtered"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scan -u states = %v, want %v", got, want)
	}
}

// The JSON lines carry exactly the fields of the documented --json format, with stable types,
// one object per port in port order, then the summary; nothing else.
func TestScanJSONSchema(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	open, closed := porttest.Listener(t), porttest.ClosedPort(t)
	stdout, stderr, err := scanTo(t, context.Background(), 1, func(o *ScanOptions) { o.JSON = true }, open, closed)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr, "/tcp") {
		t.Errorf("scan --json -v also wrote the text report to stderr:\n%s", stderr)
	}
	lines := jsonLines(t, stdout)
	if len(lines) != 3 {
		t.Fatalf("scan --json of 2 ports wrote %d objects, want 3:\n%s", len(lines), stdout)
	}
	portFields := map[string]string{"type": "string", "host": "string", "addr": "string", "port": "number",
		"proto": "string", "state": "string", "service": "string", "rtt_ms": "number"}
	lastPort := 0.0
	for _, l := range lines[:2] {
		checkFields(t, l, portFields)
		if l["type"] != "port" || l["host"] != "127.0.0.1" || l["addr"] != "127.0.0.1" || l["proto"] != "tcp" ||
			l["port"].(float64) <= lastPort {
			t.Errorf("port object %v: want type port, host and addr 127.0.0.1, proto tcp, ports in increasing order", l)
		}
		lastPort = l["port"].(float64)
	}
	checkFields(t, lines[2], scanSummaryFields)
	if s := lines[2]; s["type"] != "summary" || s["ports"] != 2.0 || s["open"] != 1.0 || s["closed"] != 1.0 || s["interrupted"] != false {
		t.Errorf("summary %v, want type summary, 2 ports, 1 open, 1 closed", s)
	}
}

// scanSummaryFields are the fields of the summary object of scan --json.
var scanSummaryFields = map[string]string{"type": "string", "host": "string", "addr": "string", "addrs": "array",
	"proto": "string", "ports": "number", "open": "number", "closed": "number", "filtered": "number",
	"open_filtered": "number", "unreachable": "number", "elapsed_ms": "number", "interrupted": "bool", "error": "string"}

// --json never goes silent: a scan that fails, after its arguments were
// read, still ends its output with a summary, which says why.
func TestScanJSONFailures(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	interrupted, stop := context.WithCancelCause(context.Background())
	stop(&Interrupted{Signal: "interrupt"})
	for _, c := range []struct {
		name        string
		ctx         context.Context
		tweak       func(*ScanOptions)
		err         string // in the error field
		interrupted bool
	}{
		{"a name with -n", context.Background(), func(o *ScanOptions) { o.Target.Host, o.Target.Numeric = "db.example", true },
			`-n forbids DNS lookups, and "db.example" is not a numeric address`, false},
		{"an address of the other family", context.Background(), func(o *ScanOptions) { o.Target.Family = 6 },
			"127.0.0.1 is not an IPv6 address (-6 was given)", false},
		{"a source of the other family", context.Background(), func(o *ScanOptions) { o.Target.Source = "::1" },
			"source address ::1 cannot reach 127.0.0.1: different address families", false},
		{"a source address of no interface", context.Background(), func(o *ScanOptions) { o.Target.Source = "192.0.2.1" },
			"cannot use source address 192.0.2.1: it belongs to no interface", false},
		{"interrupted", interrupted, nil, "interrupted by interrupt", true},
	} {
		stdout, _, err := scanTo(t, c.ctx, 0, func(o *ScanOptions) {
			o.JSON = true
			tweaked(o, c.tweak)
		}, closed)
		if err == nil {
			t.Errorf("%s: the scan succeeded", c.name)
			continue
		}
		lines := jsonLines(t, stdout)
		if len(lines) == 0 {
			t.Errorf("%s: scan --json wrote nothing; want a summary with the error", c.name)
			continue
		}
		sum := lines[len(lines)-1]
		checkFields(t, sum, scanSummaryFields)
		msg, _ := sum["error"].(string)
		if sum["type"] != "summary" || !strings.Contains(msg, c.err) || sum["interrupted"] != c.interrupted {
			t.Errorf("%s: last object %v, want a summary whose error says %q, interrupted %v", c.name, sum, c.err, c.interrupted)
		}
		if want := transport.Explain(err).Msg; msg != want {
			t.Errorf("%s: error field %q, want what is said on stderr: %q", c.name, msg, want)
		}
	}

	// A success says so: the error is null.
	stdout, _, _ := scanTo(t, context.Background(), 0, func(o *ScanOptions) { o.JSON = true }, closed)
	if lines := jsonLines(t, stdout); len(lines) != 2 || lines[1]["error"] != nil {
		t.Errorf("scan --json of a closed port wrote:\n%s\nwant a port and a summary with \"error\":null", stdout)
	}

	// Before the scan: ScanFailed writes the summary main needs.
	var out strings.Builder
	bad := &transport.InputError{Msg: "bad port \"x\""}
	o := &ScanOptions{Target: transport.Endpoint{Host: "h"}, Network: "udp", JSON: true, Stdout: &out, UI: ui.New(&strings.Builder{}, 0)}
	if err := ScanFailed(o, bad); err != bad {
		t.Errorf("ScanFailed returned %v, want the error it was given", err)
	}
	if lines := jsonLines(t, out.String()); len(lines) != 1 || lines[0]["error"] != `bad port "x"` || lines[0]["proto"] != "udp" {
		t.Errorf("ScanFailed wrote %q, want one summary with the error", out.String())
	} else {
		checkFields(t, lines[0], scanSummaryFields)
	}
	out.Reset()
	o.JSON = false
	ScanFailed(o, bad)
	if out.Len() != 0 {
		t.Errorf("ScanFailed without --json wrote %q; main reports the error on stderr", out.String())
	}
}

// checkFields checks that m has exactly the given fields, each of the
// given JSON type, or null where the type is "number" (a time that was
// not measured) or "string" (an error that did not happen).
func checkFields(t *testing.T, m map[string]any, fields map[string]string) {
	t.Helper()
	for name, typ := range fields {
		v, ok := m[name]
		if !ok {
			t.Errorf("%v: no field %q", m, name)
			continue
		}
		var got string
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case []any:
			got = "array"
		case nil:
			got = "null"
		default:
			got = fmt.Sprintf("%T", v)
		}
		if got != typ && !(got == "null" && (typ == "number" || typ == "string") && name != "port" && name != "seq") {
			t.Errorf("%v: field %q is a %s, want a %s", m, name, got, typ)
		}
	}
	for name := range m {
		if _, ok := fields[name]; !ok {
			t.Errorf("%v: unexpected field %q", m, name)
		}
	}
}

// A reader of --json that goes away (sonde scan --json ... | head -1) ends
// the scan quietly, as it ends cat.
func TestScanStdoutClosed(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	o := &ScanOptions{Target: transport.Endpoint{Host: "127.0.0.1"}, Network: "tcp", JSON: true, Stdout: closedPipe{},
		UI: ui.New(&lineHook{}, 0), Ports: []int{int(porttest.ClosedPort(t).Port())}}
	if err := Scan(context.Background(), o); err != nil {
		t.Errorf("scan --json into a closed pipe: %v, want nil", err)
	}
}

type closedPipe struct{}

func (closedPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func TestScanSourceOfOtherFamily(t *testing.T) {
	_, _, err := scanTo(t, context.Background(), 0, func(o *ScanOptions) { o.Target.Source = "::1" }, porttest.ClosedPort(t))
	var in *transport.InputError
	if !errors.As(err, &in) || !strings.Contains(in.Msg, "different address families") {
		t.Errorf("scan 127.0.0.1 from ::1: %v, want a usage error about address families", err)
	}
}

func TestScanWorkers(t *testing.T) {
	u := ui.New(&strings.Builder{}, 0)
	if got := scanWorkers(0, 3, u); got != 3 {
		t.Errorf("scanWorkers(default, 3 ports) = %d, want 3: no more workers than ports", got)
	}
	if got := scanWorkers(5, 100, u); got != 5 {
		t.Errorf("scanWorkers(5, 100 ports) = %d, want 5", got)
	}
	limit, ok := transport.OpenFileLimit()
	if !ok {
		t.Skip("no open-file limit on this system")
	}
	var warn strings.Builder
	if got := scanWorkers(limit*2, limit*2, ui.New(&warn, 0)); got != max(limit-reservedFiles, 1) {
		t.Errorf("scanWorkers(%d) with an open-file limit of %d = %d, want %d", limit*2, limit, got, limit-reservedFiles)
	}
	if !strings.Contains(warn.String(), "sonde: warning: --concurrency") {
		t.Errorf("no warning when --concurrency exceeds the open-file limit: %q", warn.String())
	}
}
