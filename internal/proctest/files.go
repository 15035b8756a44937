package proctest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// WaitFile polls the file at path until match accepts what it holds, and
// returns that. It fails the test after ReadyTimeout, or when p (if not
// nil) exits first; what names the wait in the failure.
func WaitFile(t testing.TB, p *Proc, path, what string, match func([]byte) bool) []byte {
	t.Helper()
	var b []byte
	if !PollUntil(t, what, p, func() bool {
		b, _ = os.ReadFile(path)
		return match(b)
	}) {
		t.Fatalf("%s exited (%d) before %s (%s holds %q)\nstderr:\n%s",
			p.Name, p.Cmd.ProcessState.ExitCode(), what, path, b, p.Stderr.String())
	}
	return b
}

// ParsePid reads the pid a shell writes with `echo $! > file`: ok only
// once the whole line, newline included, is there.
func ParsePid(b []byte) (pid int, ok bool) {
	s := string(b)
	pid, err := strconv.Atoi(strings.TrimSpace(s))
	return pid, err == nil && strings.HasSuffix(s, "\n")
}

// WaitPid waits for a shell to write a pid to the file at path.
func WaitPid(t testing.TB, path string) int {
	t.Helper()
	pid, _ := ParsePid(WaitFile(t, nil, path, "a pid in "+path, func(b []byte) bool {
		_, ok := ParsePid(b)
		return ok
	}))
	return pid
}
