package modes

import (
	"bufio"
	"encoding/json"
	"strings"
	"sync"
	"testing"
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
