//go:build linux

// Package interop checks sonde against the peers people use it with:
// OpenBSD netcat (nc.openbsd), Ncat, socat, Python's socket and ssl
// modules and OpenSSL's s_server and s_client (tls_test.go), including the client and server of the seed tutorial (testdata/*.py).
//
// Every test runs real processes on loopback (127.0.0.1, ::1, Unix
// sockets). Ports are never fixed: sonde listens on port 0 and reports the
// port on stderr; Python servers bind port 0 and print theirs; other peers
// get a port that was free a moment before, and are retried on another one
// if it was taken in between. Readiness is polled (a stderr line, a printed
// port, or the socket showing up in /proc/net), never slept for. Each
// process has a deadline and is killed when its test ends; the deadline
// only guards against hangs, no test asserts a duration.
//
// A missing peer skips its test with a loud message, or fails it when the
// CI environment variable is set: CI must install them
// (apt-get install -y netcat-openbsd ncat socat python3 openssl).
package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"flag"
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

// sondeBin is the sonde binary under test, built once by TestMain.
var sondeBin string

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests spend their time waiting for processes, sockets and UDP
	// linger timers, not on the CPU: run more of them at once than the
	// default (GOMAXPROCS), unless -parallel was given.
	parallelGiven := false
	flag.Visit(func(f *flag.Flag) { parallelGiven = parallelGiven || f.Name == "test.parallel" })
	if !parallelGiven {
		flag.Set("test.parallel", "16")
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sonde-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sondeBin = filepath.Join(dir, "sonde")
	build := exec.Command("go", "build", "-o", sondeBin, "github.com/sondeproject/sonde")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: cannot build sonde: %v\n", err)
		return 1
	}
	return m.Run()
}

// peerPackages names the Debian/Ubuntu package of each peer.
var peerPackages = map[string]string{
	"nc.openbsd": "netcat-openbsd",
	"ncat":       "ncat",
	"socat":      "socat",
	"python3":    "python3",
	"openssl":    "openssl",
}

// requirePeer makes sure a peer program is installed. Locally a missing
// peer skips the test (loudly); under CI it fails it, so a CI image that
// lost a peer cannot turn interop coverage off unnoticed.
func requirePeer(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	msg := fmt.Sprintf("INTEROP PEER MISSING: %s is not installed, so this interop test cannot run; "+
		"install with: apt-get install -y %s", name, peerPackages[name])
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: interop peers are required there)")
	}
	t.Skip(msg)
}

// procDeadline bounds every process a test starts. It is a guard against
// hangs (a missing half-close, a peer that never exits), not a measurement;
// it is generous because a loaded CI machine can be very slow.
const procDeadline = 90 * time.Second

// readyTimeout bounds the polling for a listener to be ready.
const readyTimeout = 60 * time.Second

// proc is a running process whose stdout (unless redirected) and stderr
// are captured.
type proc struct {
	name    string
	cmd     *exec.Cmd
	stdout  *syncBuffer // nil when stdout went elsewhere
	stderr  *syncBuffer
	done    chan struct{} // closed once the process has been waited for
	waitErr error
}

// stdio gives a process its stdin (nil: /dev/null) and stdout (nil: captured).
type stdio struct {
	stdin  io.Reader
	stdout io.Writer
}

// start runs name with args. The process is killed at its deadline or when
// the test ends, whichever comes first, and always waited for.
func start(t *testing.T, s stdio, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procDeadline)
	cmd := exec.CommandContext(ctx, name, args...)
	// Without this, a grandchild holding stdout open (socat's EXEC:cat)
	// could keep Wait from returning after the kill.
	cmd.WaitDelay = 2 * time.Second
	p := &proc{name: filepath.Base(name), cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdin = s.stdin
	if s.stdout != nil {
		cmd.Stdout = s.stdout
	} else {
		p.stdout = &syncBuffer{}
		cmd.Stdout = p.stdout
	}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("cannot start %s: %v", name, err)
	}
	t.Logf("started %s %s", p.name, strings.Join(args, " "))
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

// sonde starts the sonde binary under test.
func sonde(t *testing.T, s stdio, args ...string) *proc {
	t.Helper()
	return start(t, s, sondeBin, args...)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end on its own and returns its exit code.
// A process killed at its deadline fails the test.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	<-p.done
	code := p.cmd.ProcessState.ExitCode()
	if code == -1 {
		t.Fatalf("%s did not end on its own within %s and was killed (%v)\nstderr:\n%s",
			p.name, procDeadline, p.waitErr, p.stderr.String())
	}
	return code
}

// expectExit waits for the process and checks its exit code.
func (p *proc) expectExit(t *testing.T, want int) {
	t.Helper()
	if got := p.wait(t); got != want {
		t.Errorf("%s exited %d, want %d\nstderr:\n%s", p.name, got, want, p.stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe to poll while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }

// pollUntil calls cond every 10 ms until it returns true. It returns false
// if p (when not nil) exits first, and fails the test after readyTimeout.
func pollUntil(t *testing.T, what string, p *proc, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		if p != nil && p.exited() {
			if cond() {
				return true
			}
			return false
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", readyTimeout, what)
		}
		<-tick.C
	}
}

var sondeListeningRE = regexp.MustCompile(`sonde: listening on (\S+) \(`)

// listenAddr waits for sonde's "listening on ADDR" line (printed even
// without -v when port 0 was asked) and returns the host and port.
func (p *proc) listenAddr(t *testing.T) (host string, port int) {
	t.Helper()
	var addr string
	ok := pollUntil(t, "sonde to report its listening address", p, func() bool {
		m := sondeListeningRE.FindStringSubmatch(p.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	if !ok {
		t.Fatalf("sonde exited before listening (exit %d)\nstderr:\n%s", p.cmd.ProcessState.ExitCode(), p.stderr.String())
	}
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

var printedPortRE = regexp.MustCompile(`listening on port ?: (\d+)`)

// printedPort waits for a Python server in testdata to print its port.
func (p *proc) printedPort(t *testing.T) int {
	t.Helper()
	var port int
	ok := pollUntil(t, p.name+" to print its port", p, func() bool {
		m := printedPortRE.FindStringSubmatch(p.stdout.String())
		if m != nil {
			port, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	if !ok {
		t.Fatalf("%s exited before listening\nstdout:\n%s\nstderr:\n%s", p.name, p.stdout.String(), p.stderr.String())
	}
	return port
}

// python starts one of the scripts in testdata.
func python(t *testing.T, s stdio, script string, args ...string) *proc {
	t.Helper()
	requirePeer(t, "python3")
	return start(t, s, pythonPath(), append([]string{"-u", filepath.Join("testdata", script)}, args...)...)
}

var (
	pythonOnce sync.Once
	pythonExe  string
)

// pythonPath returns the interpreter that python3 stands for: a version
// manager's shim (pyenv) costs half a second per start, and these tests
// start many servers and clients.
func pythonPath() string {
	pythonOnce.Do(func() {
		pythonExe = "python3"
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if exe := strings.TrimSpace(string(out)); err == nil && exe != "" {
			pythonExe = exe
		}
	})
	return pythonExe
}

// freePort returns a loopback port that was free a moment ago. network is
// tcp4, tcp6, udp4 or udp6.
func freePort(t *testing.T, network string) int {
	t.Helper()
	host := "127.0.0.1"
	if strings.HasSuffix(network, "6") {
		host = "::1"
	}
	addr := net.JoinHostPort(host, "0")
	if strings.HasPrefix(network, "udp") {
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatalf("cannot find a free %s port: %v", network, err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("cannot find a free %s port: %v", network, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// inetBound tells whether /proc/net shows a socket bound to port: for TCP
// one in LISTEN state. Looking there, rather than dialling, does not use up
// the single connection a one-shot listener (nc -l) accepts.
func inetBound(network string, port int) bool {
	return len(boundInodes(network, port)) > 0
}

// inetBoundBy tells whether the socket bound to port (see inetBound)
// belongs to process pid: a port taken by another process in the meantime
// must not pass for the peer's, which is about to fail to bind it.
func inetBoundBy(pid int, network string, port int) bool {
	for _, inode := range boundInodes(network, port) {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == "socket:["+inode+"]" {
				return true
			}
		}
	}
	return false
}

// boundInodes returns the inodes of the sockets inetBound looks for.
func boundInodes(network string, port int) []string {
	table := map[string]string{"tcp4": "tcp", "tcp6": "tcp6", "udp4": "udp", "udp6": "udp6"}[network]
	data, err := os.ReadFile("/proc/net/" + table)
	if err != nil {
		return nil
	}
	var inodes []string
	lines := strings.Split(string(data), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		local := f[1]
		i := strings.LastIndexByte(local, ':')
		p, err := strconv.ParseUint(local[i+1:], 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		if strings.HasPrefix(network, "tcp") && f[3] != "0A" {
			continue
		}
		inodes = append(inodes, f[9])
	}
	return inodes
}

// startPeerListener starts a peer listening on a free port and waits until
// it is bound. The port was free when chosen but another process may take
// it before the peer binds it; a peer that exits before binding is started
// again on another port (a few times). The peer itself must hold the
// socket (not a child it forks to listen).
func startPeerListener(t *testing.T, network string, launch func(port int) *proc) (*proc, int) {
	t.Helper()
	const attempts = 5
	for i := 1; i <= attempts; i++ {
		port := freePort(t, network)
		p := launch(port)
		if pollUntil(t, fmt.Sprintf("%s to listen on %s port %d", p.name, network, port), p,
			func() bool { return inetBoundBy(p.cmd.Process.Pid, network, port) }) {
			return p, port
		}
		t.Logf("attempt %d: %s exited before listening on port %d; stderr:\n%s", i, p.name, port, p.stderr.String())
	}
	t.Fatalf("no peer listener after %d attempts", attempts)
	return nil, 0
}

// unixBound tells whether /proc/net/unix shows a socket bound to path: for
// a stream socket, one that listens (flag __SO_ACCEPTCON).
func unixBound(path string, stream bool) bool {
	data, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 || f[7] != path {
			continue
		}
		if stream && (f[4] != "0001" || f[3] != "00010000") {
			continue
		}
		if !stream && f[4] != "0002" {
			continue
		}
		return true
	}
	return false
}

// waitUnix waits until p is bound to the Unix socket path.
func waitUnix(t *testing.T, p *proc, path string, stream bool) {
	t.Helper()
	if !pollUntil(t, p.name+" to bind "+path, p, func() bool { return unixBound(path, stream) }) {
		t.Fatalf("%s exited before binding %s\nstderr:\n%s", p.name, path, p.stderr.String())
	}
}

// sockDir returns a short directory for Unix socket files: t.TempDir can
// exceed the 108-byte limit of a socket path.
func sockDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// randomPayload returns n random bytes.
func randomPayload(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// dataFile writes data to a file and returns it opened for reading, to be a
// process's stdin: a regular file, as in `sonde host port < file`.
func dataFile(t *testing.T, data []byte) *os.File {
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

// outFile is a file for a process's stdout, as in `sonde ... > file`.
type outFile struct {
	*os.File
}

func newOutFile(t *testing.T) outFile {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return outFile{f}
}

func (o outFile) contents(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(o.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameBytes compares two byte streams exactly; for large ones it reports
// sizes, hashes and the first difference rather than the data.
func sameBytes(t *testing.T, what string, got, want []byte) {
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

// requireIPv6Loopback skips the test, loudly, when ::1 is not configured.
func requireIPv6Loopback(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("INTEROP IPv6 SKIPPED: ::1 is not configured on this machine (%v); "+
			"the IPv6 interop tests did not run", err)
	}
	ln.Close()
}
