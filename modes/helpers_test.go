package modes

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/sondeproject/sonde/transport"
)

// What the tests of the modes share: a message stream to act on, the
// JSON lines of a report, and the options of a run as a test tweaks them.

// lineHook is a message stream that calls onLine with each line written
// to it, so a test can act at a given point of a mode's progress (open a
// port after the third attempt, interrupt after the second probe)
// without sleeping.
type lineHook struct {
	mu     sync.Mutex
	buf    strings.Builder
	onLine func(line string)
}

func (h *lineHook) Write(p []byte) (int, error) {
	h.mu.Lock()
	h.buf.Write(p)
	h.mu.Unlock()
	if h.onLine != nil {
		for _, l := range strings.SplitAfter(string(p), "\n") {
			if l != "" {
				h.onLine(strings.TrimSuffix(l, "\n"))
			}
		}
	}
	return len(p), nil
}

func (h *lineHook) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.String()
}

// jsonLines decodes newline-delimited JSON, failing on anything else.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line %q is not a JSON object: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		t.Errorf("stdout does not end with a newline: %q", s)
	}
	return out
}

// tweaked applies tweak, when there is one, to a mode's options o, and
// returns o.
func tweaked[O any](o *O, tweak func(*O)) *O {
	if tweak != nil {
		tweak(o)
	}
	return o
}

// interruptAt returns a context, the interruption (Ctrl-C) that ends it,
// and a message stream that interrupts it at the first line at accepts:
// a test stops a mode at a given point of its progress without sleeping.
func interruptAt(t *testing.T, at func(line string) bool) (context.Context, *Interrupted, *lineHook) {
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	stop := &Interrupted{Signal: "interrupt"}
	return ctx, stop, &lineHook{onLine: func(l string) {
		if at(l) {
			cancel(stop)
		}
	}}
}

// loopbackTLS is a server's TLS configuration with a certificate of its
// own for 127.0.0.1, and that certificate.
func loopbackTLS(t *testing.T) (*tls.Config, *x509.Certificate) {
	t.Helper()
	cfg, leaf, _, err := transport.ServerTLSConfig(transport.TLSOptions{}, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, leaf
}
