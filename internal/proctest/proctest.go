// Package proctest runs real processes for the tests that drive the sonde
// binary from outside (interop, reliability): it builds sonde once, starts
// processes with captured output and a deadline, waits for them, and polls
// for readiness (never sleeps for it).
//
// Every process has a deadline and is killed when its test ends; the
// deadline only guards against hangs, no test asserts a duration.
package proctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Deadline bounds every process a test starts. It is a guard against
// hangs (a missing half-close, a peer that never exits), not a measurement;
// it is generous because a loaded CI machine can be very slow.
const Deadline = 90 * time.Second

// ReadyTimeout bounds the polling for a listener to be ready.
const ReadyTimeout = 60 * time.Second

// BuildSonde builds the sonde command into dir and returns the binary's path.
func BuildSonde(dir string) (string, error) {
	bin := filepath.Join(dir, "sonde")
	build := exec.Command("go", "build", "-o", bin, "github.com/sondeproject/sonde")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("cannot build sonde: %w", err)
	}
	return bin, nil
}

// binEnv passes the binary built by a test process to the copies of the
// test binary it starts (netnstest re-runs a test in a namespace), which
// need not build it again.
const binEnv = "SONDE_TEST_BIN"

// MainWithSonde is a TestMain body: it builds sonde into a temporary
// directory, stores its path in *bin, runs the tests and returns their
// exit code.
func MainWithSonde(m *testing.M, bin *string) int {
	if inherited := os.Getenv(binEnv); inherited != "" {
		if _, err := os.Stat(inherited); err == nil {
			*bin = inherited
			return m.Run()
		}
	}
	dir, err := os.MkdirTemp("", "sonde-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = BuildSonde(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv(binEnv, *bin)
	return m.Run()
}

// Proc is a running process whose stdout (unless redirected) and stderr
// are captured.
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	Stdout  *Buffer // nil when stdout went elsewhere
	Stderr  *Buffer
	done    chan struct{} // closed once the process has been waited for
	waitErr error
}

// Stdio gives a process its stdin (nil: /dev/null) and stdout (nil: captured).
type Stdio struct {
	Stdin  io.Reader
	Stdout io.Writer
}

// Start runs name with args. The process is killed at its deadline or when
// the test ends, whichever comes first, and always waited for.
func Start(t testing.TB, s Stdio, name string, args ...string) *Proc {
	t.Helper()
	return StartCmd(t, s, func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, name, args...) })
}

// StartCmd is Start for a command that needs more than a name and
// arguments (an environment, a process group): mk builds it, bound to ctx.
func StartCmd(t testing.TB, s Stdio, mk func(ctx context.Context) *exec.Cmd) *Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	cmd := mk(ctx)
	// Without this, a grandchild holding stdout open (socat's EXEC:cat)
	// could keep Wait from returning after the kill.
	cmd.WaitDelay = 2 * time.Second
	p := &Proc{Name: filepath.Base(cmd.Path), Cmd: cmd, Stderr: &Buffer{}, done: make(chan struct{})}
	cmd.Stdin = s.Stdin
	if s.Stdout != nil {
		cmd.Stdout = s.Stdout
	} else {
		p.Stdout = &Buffer{}
		cmd.Stdout = p.Stdout
	}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %s: %v", cmd.Path, err)
	}
	t.Logf("started %s", strings.Join(cmd.Args, " "))
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// Exited tells whether the process has ended and been waited for.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed once the process has ended and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to end on its own and returns its exit code.
// A process killed at its deadline (or by any signal) fails the test.
func (p *Proc) Wait(t testing.TB) int {
	t.Helper()
	<-p.done
	code := p.Cmd.ProcessState.ExitCode()
	if code == -1 {
		t.Fatalf("%s did not end on its own within %s and was killed (%v)\nstderr:\n%s",
			p.Name, Deadline, p.waitErr, p.Stderr.String())
	}
	return code
}

// ExpectExit waits for the process and checks its exit code.
func (p *Proc) ExpectExit(t testing.TB, want int) {
	t.Helper()
	if got := p.Wait(t); got != want {
		t.Errorf("%s exited %d, want %d\nstderr:\n%s", p.Name, got, want, p.Stderr.String())
	}
}

// Buffer is a bytes.Buffer safe to poll while a process writes to it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *Buffer) String() string { return string(b.Bytes()) }

// Len is the number of bytes written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// PollUntil calls cond every 10 ms until it returns true. It returns false
// if p (when not nil) exits first, and fails the test after ReadyTimeout.
func PollUntil(t testing.TB, what string, p *Proc, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		if p != nil && p.Exited() {
			return cond()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", ReadyTimeout, what)
		}
		<-tick.C
	}
}

// WaitStderr waits until the process's stderr matches re and returns the
// match's submatches; it fails the test if the process exits first.
func (p *Proc) WaitStderr(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	if !PollUntil(t, fmt.Sprintf("%s to print %q", p.Name, re), p, func() bool {
		m = re.FindStringSubmatch(p.Stderr.String())
		return m != nil
	}) {
		t.Fatalf("%s exited (%d) before printing %q\nstderr:\n%s", p.Name, p.Cmd.ProcessState.ExitCode(), re, p.Stderr.String())
	}
	return m
}

var sondeListeningRE = regexp.MustCompile(`sonde: listening on (\S+) \(`)

// ListenAddr waits for sonde's "listening on ADDR" line (printed even
// without -v when port 0 was asked) and returns the host and port.
func (p *Proc) ListenAddr(t testing.TB) (host string, port int) {
	t.Helper()
	addr := p.WaitStderr(t, sondeListeningRE)[1]
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("sonde reported a bad listening address %q: %v", addr, err)
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port <= 0 {
		t.Fatalf("sonde reported a bad port in %q", addr)
	}
	return host, port
}

// RandomPayload returns n random bytes.
func RandomPayload(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// SameBytes compares two byte streams exactly; for large ones it reports
// sizes, hashes and the first difference rather than the data.
func SameBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	if len(got) <= 256 && len(want) <= 256 {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x); first difference at offset %d",
		what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want), i)
}

// DataFile writes data to a file and returns it opened for reading, to be a
// process's stdin: a regular file, as in `sonde host port < file`.
func DataFile(t testing.TB, data []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// OutFile is a file for a process's stdout, as in `sonde ... > file`.
type OutFile struct {
	*os.File
}

// NewOutFile creates an empty OutFile in a temporary directory.
func NewOutFile(t testing.TB) OutFile {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return OutFile{f}
}

// Contents returns what was written to the file.
func (o OutFile) Contents(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(o.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
