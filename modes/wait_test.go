package modes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// waitFor runs Wait against 127.0.0.1:port with fast retries.
func waitFor(ctx context.Context, port int, stdout, stderr *lineHook, verbosity int, tweak func(*WaitOptions)) error {
	return Wait(ctx, tweaked(&WaitOptions{Target: transport.Endpoint{Host: "127.0.0.1", Port: port}, Timeout: time.Minute,
		Interval: 5 * time.Millisecond, Stdout: stdout, UI: ui.New(stderr, verbosity)}, tweak))
}

func TestWaitTimeout(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	var stdout, stderr lineHook
	err := waitFor(context.Background(), int(closed.Port()), &stdout, &stderr, 0, func(o *WaitOptions) {
		o.Timeout, o.JSON = 500*time.Millisecond, true
	})
	var status *ExitStatus
	if !errors.As(err, &status) || status.Code != 1 {
		t.Fatalf("wait for a closed port: %v, want exit status 1", err)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^sonde: %s did not accept a connection within 500ms \(\d+ attempts; the last one: connection refused\)\n`+
		`sonde: hint: nothing listens on port %d yet; is the service running, and on this port\?\n$`, closed, closed.Port()))
	if !want.MatchString(stderr.String()) {
		t.Errorf("wait for a closed port wrote:\n%s\nwant %s", stderr.String(), want)
	}
	lines := jsonLines(t, stdout.String())
	last := lines[len(lines)-1]
	checkFields(t, last, waitSummaryFields)
	if last["type"] != "summary" || last["state"] != "timeout" || last["attempts"] != float64(len(lines)-1) || len(lines) < 3 {
		t.Errorf("wait --json ended with %v after %d attempts, want a timeout summary after several attempts", last, len(lines)-1)
	}
	if why, _ := last["error"].(string); !strings.HasPrefix(why, closed.String()+" did not accept a connection within 500ms (") {
		t.Errorf("wait --json timed out with the error %q, want the message of stderr", why)
	}
}

func TestWaitInterrupted(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	ctx, stop, stdout := interruptAt(t, func(l string) bool { return strings.Contains(l, `"attempts":2,`) })
	err := waitFor(ctx, int(closed.Port()), stdout, &lineHook{}, 0, func(o *WaitOptions) { o.JSON = true })
	if !errors.Is(err, stop) {
		t.Fatalf("interrupted wait: %v, want the interruption", err)
	}
	lines := jsonLines(t, stdout.String())
	if last := lines[len(lines)-1]; last["state"] != "interrupted" || last["attempts"] != 2.0 || last["error"] != "interrupted" {
		t.Errorf("interrupted wait ended with %v, want an interrupted summary after 2 attempts, with its error", last)
	}
}

// Ctrl-C ends a -v wait with a line that sums it up, as the other modes'
// summaries do.
func TestWaitInterruptedSummary(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	ctx, stop, stderr := interruptAt(t, func(l string) bool { return strings.HasPrefix(l, "sonde: attempt 2: ") })
	err := waitFor(ctx, int(closed.Port()), &lineHook{}, stderr, 1, nil)
	if !errors.Is(err, stop) {
		t.Fatalf("interrupted wait: %v, want the interruption", err)
	}
	want := regexp.MustCompile(fmt.Sprintf(`\nsonde: %s did not accept a connection before the interruption \(2 attempts in [^)]+\)\n$`, closed))
	if !want.MatchString(stderr.String()) {
		t.Errorf("interrupted wait -v wrote:\n%s\nwant a last line matching %s", stderr.String(), want)
	}
}

var waitSummaryFields = map[string]string{"type": "string", "host": "string", "port": "number", "addr": "string",
	"state": "string", "attempts": "number", "elapsed_ms": "number", "error": "string"}

// A wait that cannot go on (a source address of the other family) ends
// --json with a summary that says why, as a wait that could not start
// does.
func TestWaitJSONError(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	closed := porttest.ClosedPort(t)
	var stdout lineHook
	err := waitFor(context.Background(), int(closed.Port()), &stdout, &lineHook{}, 0, func(o *WaitOptions) { o.JSON, o.Target.Source = true, "::1" })
	if err == nil {
		t.Fatal("wait -s ::1 127.0.0.1 succeeded")
	}
	notStarted := WaitNotStarted(&WaitOptions{JSON: true, Stdout: &stdout, Target: transport.Endpoint{Host: "db"}}, errors.New("bad --timeout x"))
	lines := jsonLines(t, stdout.String())
	if len(lines) != 2 {
		t.Fatalf("wait --json wrote %d objects, want a summary for each of the two failures:\n%s", len(lines), stdout.String())
	}
	for i, want := range []string{"source address ::1 cannot reach 127.0.0.1: different address families", "bad --timeout x"} {
		checkFields(t, lines[i], waitSummaryFields)
		if lines[i]["type"] != "summary" || lines[i]["state"] != "error" || lines[i]["error"] != want || lines[i]["attempts"] != 0.0 {
			t.Errorf("summary %v, want state error, 0 attempts and the error %q", lines[i], want)
		}
	}
	if notStarted == nil || notStarted.Error() != "bad --timeout x" {
		t.Errorf("WaitNotStarted returned %v, want its error", notStarted)
	}
}

func TestWaitPause(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		interval, cap time.Duration
		n             int
		want          time.Duration
	}{
		{100 * ms, time.Second, 1, 100 * ms},
		{100 * ms, time.Second, 2, 150 * ms},
		{100 * ms, time.Second, 3, 225 * ms},
		{100 * ms, time.Second, 6, 759375 * time.Microsecond},
		{100 * ms, time.Second, 7, time.Second},
		{100 * ms, time.Second, 1000, time.Second},
		{5 * time.Second, 5 * time.Second, 3, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := waitPause(tt.interval, tt.cap, tt.n); got != tt.want {
			t.Errorf("waitPause(%s, cap %s, attempt %d) = %s, want %s", tt.interval, tt.cap, tt.n, got, tt.want)
		}
	}
}
