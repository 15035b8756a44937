package main

import (
	"bytes"
	"strings"
	"testing"
)

// Bad trace command lines: one line and a hint on stderr, exit 2, before
// any probe; with --json, a summary that says why on stdout.
func TestTraceUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"trace"}, "sonde: missing host to trace\n"},
		{[]string{"trace", "192.0.2.1"}, "sonde: missing port"},
		{[]string{"trace", "192.0.2.1", "70000"}, `sonde: bad port "70000"`},
		{[]string{"trace", "-m", "0", "192.0.2.1", "80"}, "sonde: bad -m 0: a TTL is 1-255\n"},
		{[]string{"trace", "--max-hops", "256", "192.0.2.1", "80"}, "sonde: bad -m 256: a TTL is 1-255\n"},
		{[]string{"trace", "--probes", "0", "192.0.2.1", "80"}, "sonde: bad --probes 0: must be 1-10\n"},
		{[]string{"trace", "-w", "0", "192.0.2.1", "80"}, "sonde: bad --wait 0: must be more than 0\n"},
		{[]string{"trace", "-4", "-6", "192.0.2.1", "80"}, "sonde: -4 and -6 cannot be combined\n"},
		{[]string{"trace", "192.0.2.1", "80", "extra"}, "sonde: too many arguments"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.HasPrefix(stderr.String(), tc.msg) || stdout.Len() > 0 {
			t.Errorf("sonde %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "),
				code, stdout.String(), stderr.String(), tc.msg)
		}
		stdout.Reset()
		stderr.Reset()
		code = run(append([]string{"trace", "--json"}, tc.args[1:]...), strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.HasPrefix(stdout.String(), `{"type":"summary",`) || !strings.Contains(stdout.String(), `"error":"`) {
			t.Errorf("sonde trace --json %s: exit %d, stdout %q", strings.Join(tc.args[1:], " "), code, stdout.String())
		}
	}
}
