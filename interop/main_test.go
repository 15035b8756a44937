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
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sondeproject/sonde/internal/proctest"
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
	os.Exit(proctest.MainWithSonde(m, &sondeBin))
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

// The process harness lives in internal/proctest; these short names keep
// the tests readable.
type (
	proc  = proctest.Proc
	stdio = proctest.Stdio
)

const procDeadline = proctest.Deadline

var (
	start         = proctest.Start
	pollUntil     = proctest.PollUntil
	randomPayload = proctest.RandomPayload
	sameBytes     = proctest.SameBytes
	dataFile      = proctest.DataFile
	newOutFile    = proctest.NewOutFile
)

// sonde starts the sonde binary under test.
func sonde(t *testing.T, s stdio, args ...string) *proc {
	t.Helper()
	return start(t, s, sondeBin, args...)
}

var printedPortRE = regexp.MustCompile(`listening on port ?: (\d+)`)

// printedPort waits for a Python server in testdata to print its port.
func printedPort(t *testing.T, p *proc) int {
	t.Helper()
	var port int
	ok := pollUntil(t, p.Name+" to print its port", p, func() bool {
		m := printedPortRE.FindStringSubmatch(p.Stdout.String())
		if m != nil {
			port, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	if !ok {
		t.Fatalf("%s exited before listening\nstdout:\n%s\nstderr:\n%s", p.Name, p.Stdout.String(), p.Stderr.String())
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
	return proctest.HoldsSocket(pid, boundInodes(network, port))
}

// boundInodes returns the inodes of the sockets inetBound looks for.
func boundInodes(network string, port int) []string {
	table := map[string]string{"tcp4": "tcp", "tcp6": "tcp6", "udp4": "udp", "udp6": "udp6"}[network]
	var inodes []string
	for _, s := range proctest.InetSockets(table) {
		if s.LocalPort == port && (!strings.HasPrefix(network, "tcp") || s.State == "0A") {
			inodes = append(inodes, s.Inode)
		}
	}
	return inodes
}

// peerCommand is a peer program and its arguments for an address: a
// port (int) or a Unix socket path (string).
type peerCommand[A int | string] struct {
	name, program string
	args          func(addr A) []string
}

// talk runs sonde with args and sent on its stdin against peer, which was
// started with reply on its stdin: each must exit 0 having printed exactly
// what the other sent.
func talk(t *testing.T, peer *proc, sent, reply string, args ...string) {
	t.Helper()
	s := sonde(t, stdio{Stdin: strings.NewReader(sent)}, args...)
	s.ExpectExit(t, 0)
	sameBytes(t, "sonde stdout (what "+peer.Name+" sent)", s.Stdout.Bytes(), []byte(reply))
	peer.ExpectExit(t, 0)
	sameBytes(t, peer.Name+" stdout (what sonde sent)", peer.Stdout.Bytes(), []byte(sent))
}

// sondeGets runs sonde with args and sent on its stdin: it must exit 0
// having printed exactly want.
func sondeGets(t *testing.T, sent, want string, args ...string) {
	t.Helper()
	s := sonde(t, stdio{Stdin: strings.NewReader(sent)}, args...)
	s.ExpectExit(t, 0)
	sameBytes(t, "sonde stdout", s.Stdout.Bytes(), []byte(want))
}

// checkDelivered waits for the sending peer, then sonde, to exit 0, and
// checks that sonde's stdout, read by stdout once sonde has exited, is want.
func checkDelivered(t *testing.T, peer, s *proc, stdout func() []byte, want []byte) {
	t.Helper()
	peer.ExpectExit(t, 0)
	s.ExpectExit(t, 0)
	sameBytes(t, "sonde stdout", stdout(), want)
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
		if pollUntil(t, fmt.Sprintf("%s to listen on %s port %d", p.Name, network, port), p,
			func() bool { return inetBoundBy(p.Cmd.Process.Pid, network, port) }) {
			return p, port
		}
		t.Logf("attempt %d: %s exited before listening on port %d; stderr:\n%s", i, p.Name, port, p.Stderr.String())
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
	if !pollUntil(t, p.Name+" to bind "+path, p, func() bool { return unixBound(path, stream) }) {
		t.Fatalf("%s exited before binding %s\nstderr:\n%s", p.Name, path, p.Stderr.String())
	}
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
