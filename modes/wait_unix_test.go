//go:build unix

package modes

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
)

// Wait keeps trying while nothing listens, and returns as soon as the
// port accepts: here the port starts listening after the third attempt.
func TestWaitForPortThatOpensLater(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	port := porttest.Unopened(t)
	stderr := &lineHook{onLine: func(l string) {
		if strings.HasPrefix(l, "sonde: attempt 3:") {
			port.Listen(t)
		}
	}}
	var stdout lineHook
	if err := waitFor(context.Background(), port.Port(), &stdout, stderr, 1, nil); err != nil {
		t.Fatalf("wait: %v\n%s", err, stderr)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port.Port())
	want := regexp.MustCompile(`^` +
		`sonde: attempt 1: ` + addr + ` closed: connection refused\n` +
		`sonde: attempt 2: ` + addr + ` closed: connection refused\n` +
		`sonde: attempt 3: ` + addr + ` closed: connection refused\n$`)
	if !want.MatchString(stderr.String()) {
		t.Errorf("wait -v wrote to stderr:\n%s\nwant three refused attempts", stderr)
	}
	if want := regexp.MustCompile(`^` + addr + ` accepts connections: attempt 4, after \S+\n$`); !want.MatchString(stdout.String()) {
		t.Errorf("wait -v wrote to stdout:\n%s\nwant its result line", stdout.String())
	}
}

// With --json, stdout holds JSON only: each attempt is
// an object and the summary says how it ended.
func TestWaitJSON(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	port := porttest.Unopened(t)
	stdout := &lineHook{onLine: func(l string) {
		if strings.Contains(l, `"attempts":2,`) {
			port.Listen(t)
		}
	}}
	var stderr lineHook
	if err := waitFor(context.Background(), port.Port(), stdout, &stderr, 0, func(o *WaitOptions) { o.JSON = true }); err != nil {
		t.Fatal(err)
	}
	if stderr.String() != "" {
		t.Errorf("wait --json wrote to stderr: %q", stderr.String())
	}
	lines := jsonLines(t, stdout.String())
	if len(lines) != 4 {
		t.Fatalf("wait --json wrote %d objects, want 3 attempts and a summary:\n%s", len(lines), stdout)
	}
	attempt := map[string]string{"type": "string", "host": "string", "port": "number", "addr": "string", "state": "string", "attempts": "number", "elapsed_ms": "number"}
	for i, want := range []string{"closed", "closed", "open"} {
		checkFields(t, lines[i], attempt)
		addr := map[bool]any{true: "127.0.0.1", false: nil}[want == "open"]
		if lines[i]["type"] != "attempt" || lines[i]["state"] != want || lines[i]["addr"] != addr || lines[i]["attempts"] != float64(i+1) || lines[i]["port"] != float64(port.Port()) {
			t.Errorf("attempt object %d = %v, want state %s, attempts %d", i+1, lines[i], want, i+1)
		}
	}
	checkFields(t, lines[3], waitSummaryFields)
	if s := lines[3]; s["type"] != "summary" || s["state"] != "open" || s["attempts"] != 3.0 || s["addr"] != "127.0.0.1" || s["error"] != nil {
		t.Errorf("summary %v, want state open after 3 attempts", s)
	}
}
