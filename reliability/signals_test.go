//go:build linux

package reliability

import (
	"context"
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
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// TestSignalsAtEveryPhase sends SIGINT and SIGTERM to sonde in each phase
// of its life: resolving a name, connecting, TLS handshaking, moving data
// (TCP, UDP, Unix stream and datagram, connect and listen), listening
// with no client yet (every listening mode, echo and relay included),
// retrying (wait), between probes (ping) and in the middle of a scan. In
// each, sonde must exit promptly with 130 (SIGINT) or 143 (SIGTERM),
// print no panic trace and no error (an interruption is not a failure),
// end with its -v summary in that mode's words, and remove the Unix
// socket files it created.
//
// Sonde is known to be in the phase by what the test observes, never by
// sleeping: the DNS query reaching the test's silent DNS server, the SYN
// socket in /proc/net/tcp, the peer receiving sonde's bytes and sonde's
// stdout receiving the peer's, or a -v progress line.
//
// Cells covered by the package main tests are left out, not repeated:
// TCP connect moving data × SIGINT (TestInterruptPrintsSummary), Unix
// stream listen × both signals (TestSignalRemovesUnixSocket) and ping ×
// SIGINT (TestPingInterruptPrintsSummary).
//
// It runs in a private network namespace: the resolving phase needs the
// DNS port of 127.0.0.1, and a resolv.conf naming it, which each sonde of
// that phase gets in a private mount namespace of its own (unshare -m),
// so the machine's /etc/resolv.conf is never touched.
func TestSignalsAtEveryPhase(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	env := &signalEnv{dns: silentDNS(t), resolvConf: fakeResolvConf(t), hostResolv: string(hostResolv)}

	var (
		mu      sync.Mutex
		slowest time.Duration
		cells   int
	)
	started := time.Now()
	t.Run("phases", func(t *testing.T) { // returns once its parallel subtests are done
		for _, ph := range signalPhases {
			for _, s := range []phaseSignal{{"SIGINT", syscall.SIGINT, 130}, {"SIGTERM", syscall.SIGTERM, 143}} {
				if ph.skip == s.sig {
					continue
				}
				t.Run(ph.name+"/"+s.name, func(t *testing.T) {
					t.Parallel()
					took := runSignalPhase(t, env, ph, s)
					mu.Lock()
					slowest, cells = max(slowest, took), cells+1
					mu.Unlock()
				})
			}
		}
	})
	if after, err := os.ReadFile("/etc/resolv.conf"); err != nil || string(after) != env.hostResolv {
		t.Errorf("the machine's /etc/resolv.conf changed: %v\n%s", err, after)
	}
	t.Logf("%d phase × signal cells in %s; the slowest exit after its signal took %s",
		cells, time.Since(started).Round(time.Millisecond), slowest.Round(time.Millisecond))
}

// phaseSignal is a signal and the exit status it must give.
type phaseSignal struct {
	name string
	sig  syscall.Signal
	code int
}

// sigExitGuard bounds the wait for sonde to exit after the signal: a guard
// against a hang, generous for a loaded machine, not a measurement.
const sigExitGuard = 20 * time.Second

// signalPhase is one phase of sonde's life, with how to get sonde there.
type signalPhase struct {
	name string
	skip syscall.Signal // a signal covered elsewhere
	// start starts sonde and returns once it is in the phase, with what
	// must hold after the signal.
	start func(t *testing.T, env *signalEnv) phaseRun
}

// phaseRun is a sonde in its phase.
type phaseRun struct {
	p       *proctest.Proc
	summary *regexp.Regexp // the -v summary, in stderr (nil: the mode reports on stdout)
	report  *regexp.Regexp // the report on stdout, for a mode that has one there
	files   []string       // Unix socket files that must be gone
	stdout  string         // what stdout must hold, when it matters
}

type signalEnv struct {
	dns        *dnsServer
	resolvConf string
	hostResolv string // /etc/resolv.conf as the machine has it
}

func runSignalPhase(t *testing.T, env *signalEnv, ph signalPhase, s phaseSignal) time.Duration {
	run := ph.start(t, env)
	p := run.p
	if p.Exited() {
		t.Fatalf("sonde ended before the signal (exit %d)\nstderr:\n%s", p.Cmd.ProcessState.ExitCode(), p.Stderr.String())
	}
	sent := time.Now()
	if err := p.Cmd.Process.Signal(s.sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(sigExitGuard):
		p.Cmd.Process.Kill()
		<-p.Done()
		t.Fatalf("HANG: sonde still running %s after %s (killed)\nstderr:\n%s", sigExitGuard, s.name, p.Stderr.String())
	}
	took := time.Since(sent)
	stderr := p.Stderr.String()
	if got := p.Cmd.ProcessState.ExitCode(); got != s.code {
		t.Errorf("exit %d after %s, want %d (%s)", got, s.name, s.code, p.Cmd.ProcessState)
	}
	for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr holds %q", bad)
		}
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "sonde: cannot ") || strings.Contains(l, "canceled") || strings.Contains(l, "cancelled") ||
			strings.HasPrefix(l, "sonde: hint: ") || strings.HasPrefix(l, "sonde: warning: ") {
			t.Errorf("an interruption reported as a failure: %q", l)
		}
	}
	if run.summary != nil && !run.summary.MatchString(stderr) {
		t.Errorf("no -v summary after %s: want a line matching %s", s.name, run.summary)
	}
	if run.report != nil && !run.report.MatchString(p.Stdout.String()) {
		t.Errorf("no report on stdout after %s: want a line matching %s\nstdout:\n%s", s.name, run.report, p.Stdout.String())
	}
	for _, f := range run.files {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("socket file %s left behind after %s (%v)", f, s.name, err)
		}
	}
	if p.Stdout != nil && run.report == nil && p.Stdout.String() != run.stdout {
		t.Errorf("stdout %q, want %q", p.Stdout.String(), run.stdout)
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr)
	}
	return took
}

// Summaries, as modes/ words them.
var (
	// stats.summary of connect and listen (TCP, Unix stream, UDP connect)
	sigStreamSummary = func(sent, received int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`(?m)^sonde: sent %d bytes, received %d bytes in \S+$`, sent, received))
	}
	// runDatagramListen's (UDP and Unix datagram listen)
	sigDatagramSummary = func(sent, received int, datagrams string) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`(?m)^sonde: sent %d bytes, received %d bytes in %s$`, sent, received, datagrams))
	}
	sigEchoStreamSummary   = regexp.MustCompile(`(?m)^sonde: served 0 clients \(0 refused\), echoed 0 bytes in \S+$`)
	sigEchoDatagramSummary = regexp.MustCompile(`(?m)^sonde: echoed 0 bytes in 0 datagrams from 0 senders in \S+$`)
	sigRelaySummary        = regexp.MustCompile(`(?m)^sonde: relayed 0 connections \(0 refused, 0 could not reach the target\): 0 bytes to target, 0 bytes to clients in \S+$`)
	sigRelayUDPSummary     = regexp.MustCompile(`(?m)^sonde: relayed 0 sessions \(0 datagrams refused\): 0 datagrams \(0 bytes\) to target, 0 datagrams \(0 bytes\) to clients in \S+$`)
	sigWaitSummary         = func(target string, attempts string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^sonde: ` + regexp.QuoteMeta(target) + ` did not accept a connection before the interruption \(` + attempts + ` in \S+\)$`)
	}
	// ping's, on stdout: the probe still in flight when the signal
	// comes is not counted, so the count sent is "\d+" for a probe that
	// hangs
	sigPingSummary = func(port int, sent string, ok int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`(?m)^--- 127\.0\.0\.1 port %d ping statistics ---\n%s probes? sent, %d ok, \d+(\.\d)?%% loss, time \S+$`, port, sent, ok))
	}
)

var signalPhases = []signalPhase{
	// Resolving: the DNS server takes the query and never answers.
	{name: "resolving/connect", start: func(t *testing.T, env *signalEnv) phaseRun {
		name := env.dns.name(t)
		p := sondeWithResolvConf(t, env, proctest.Stdio{}, "-v", name, "80")
		env.dns.waitQuery(t, p, name)
		checkHostResolvConf(t, env)
		return phaseRun{p: p, summary: sigStreamSummary(0, 0)}
	}},
	{name: "resolving/wait", start: func(t *testing.T, env *signalEnv) phaseRun {
		name := env.dns.name(t)
		p := sondeWithResolvConf(t, env, proctest.Stdio{}, "wait", "-v", name, "80")
		env.dns.waitQuery(t, p, name)
		checkHostResolvConf(t, env)
		return phaseRun{p: p, summary: sigWaitSummary(name+":80", "0 attempts")}
	}},

	// Connecting: the listener's accept queue is full, so the SYN goes
	// unanswered and the connect hangs (no -w).
	{name: "connecting/connect", start: func(t *testing.T, env *signalEnv) phaseRun {
		addr := porttest.FullQueue(t)
		p := sigSonde(t, proctest.Stdio{}, "-v", addr.Addr().String(), strconv.Itoa(int(addr.Port())))
		waitSynSent(t, p, int(addr.Port()))
		return phaseRun{p: p, summary: sigStreamSummary(0, 0)}
	}},
	{name: "connecting/ping", start: func(t *testing.T, env *signalEnv) phaseRun {
		addr := porttest.FullQueue(t)
		p := sigSonde(t, proctest.Stdio{}, "ping", "-v", "-w", "1h", addr.Addr().String(), strconv.Itoa(int(addr.Port())))
		waitSynSent(t, p, int(addr.Port()))
		return phaseRun{p: p, report: sigPingSummary(int(addr.Port()), `\d+`, 0)}
	}},

	// TLS handshaking: the peer accepts and never says a word. A pin
	// (which no certificate will be checked against) keeps the
	// verification on, so that no --insecure warning comes first.
	{name: "tls-handshake/connect", start: func(t *testing.T, env *signalEnv) phaseRun {
		silent := porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) { io.Copy(io.Discard, c) }) // never writes
		pin := "sha256:" + strings.Repeat("0", 64)
		p := sigSonde(t, proctest.Stdio{}, "-v", "--tls", "--pin", pin, "127.0.0.1", strconv.Itoa(int(silent.Port())))
		p.WaitStderr(t, regexp.MustCompile(`(?m)^sonde: connected to 127\.0\.0\.1:\d+ \(tcp\) in `))
		return phaseRun{p: p, summary: sigStreamSummary(0, 0)}
	}},

	// Moving data: stdin is a pipe the test holds open, the peer sends.
	{name: "transferring/tcp-connect", skip: syscall.SIGINT, start: func(t *testing.T, env *signalEnv) phaseRun {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		accepted := sigAcceptOne(t, ln)
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-v", "127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
		sigExchange(t, p, stdin.w, <-accepted)
		return phaseRun{p: p, summary: sigStreamSummary(3, 5), stdout: "12345"}
	}},
	{name: "transferring/tcp-listen", start: func(t *testing.T, env *signalEnv) phaseRun {
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-lv", "127.0.0.1", "0")
		_, port := p.ListenAddr(t)
		sigExchange(t, p, stdin.w, sigDial(t, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))))
		return phaseRun{p: p, summary: sigStreamSummary(3, 5), stdout: "12345"}
	}},
	{name: "transferring/unix-stream-listen", start: func(t *testing.T, env *signalEnv) phaseRun {
		path := filepath.Join(porttest.SocketDir(t), "s.sock")
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-lUv", path)
		p.WaitStderr(t, regexp.MustCompile(`sonde: listening on `+regexp.QuoteMeta(path)))
		sigExchange(t, p, stdin.w, sigDial(t, "unix", path))
		return phaseRun{p: p, summary: sigStreamSummary(3, 5), stdout: "12345", files: []string{path}}
	}},
	{name: "transferring/udp-connect", start: func(t *testing.T, env *signalEnv) phaseRun {
		peer := sigListenPacket(t, "udp", "127.0.0.1:0")
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-uv", "127.0.0.1", strconv.Itoa(peer.LocalAddr().(*net.UDPAddr).Port))
		p.WaitStderr(t, regexp.MustCompile(`(?m)^sonde: sending datagrams to `))
		sigWrite(t, stdin.w, "abc")
		from := sigReadDatagram(t, peer, "abc")
		sigWriteTo(t, peer, "12345", from)
		sigWaitStdout(t, p, "12345")
		return phaseRun{p: p, summary: sigStreamSummary(3, 5), stdout: "12345"}
	}},
	{name: "transferring/udp-listen", start: func(t *testing.T, env *signalEnv) phaseRun {
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-luv", "127.0.0.1", "0")
		_, port := p.ListenAddr(t)
		peer := sigListenPacket(t, "udp", "127.0.0.1:0")
		sigWriteTo(t, peer, "12345", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		sigWaitStdout(t, p, "12345")
		sigWrite(t, stdin.w, "abc")
		sigReadDatagram(t, peer, "abc")
		return phaseRun{p: p, summary: sigDatagramSummary(3, 5, "1 datagram"), stdout: "12345"}
	}},
	{name: "transferring/unix-datagram-listen", start: func(t *testing.T, env *signalEnv) phaseRun {
		dir := porttest.SocketDir(t)
		path := filepath.Join(dir, "d.sock")
		stdin := sigHeldStdin(t)
		p := sigSonde(t, proctest.Stdio{Stdin: stdin.r}, "-luUv", path)
		p.WaitStderr(t, regexp.MustCompile(`sonde: listening on `+regexp.QuoteMeta(path)))
		peer := sigListenPacket(t, "unixgram", filepath.Join(dir, "peer.sock"))
		sigWriteTo(t, peer, "12345", &net.UnixAddr{Name: path, Net: "unixgram"})
		sigWaitStdout(t, p, "12345")
		sigWrite(t, stdin.w, "abc")
		sigReadDatagram(t, peer, "abc")
		return phaseRun{p: p, summary: sigDatagramSummary(3, 5, "1 datagram"), stdout: "12345", files: []string{path}}
	}},

	// Listening, no client yet.
	{name: "listening/tcp", start: func(t *testing.T, env *signalEnv) phaseRun {
		p := sigSonde(t, proctest.Stdio{}, "-lv", "127.0.0.1", "0")
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigStreamSummary(0, 0)}
	}},
	{name: "listening/udp", start: func(t *testing.T, env *signalEnv) phaseRun {
		p := sigSonde(t, proctest.Stdio{}, "-luv", "127.0.0.1", "0")
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigDatagramSummary(0, 0, "0 datagrams")}
	}},
	{name: "listening/unix-datagram", start: func(t *testing.T, env *signalEnv) phaseRun {
		path := filepath.Join(porttest.SocketDir(t), "d.sock")
		p := sigSonde(t, proctest.Stdio{}, "-luUv", path)
		p.WaitStderr(t, regexp.MustCompile(`sonde: listening on `+regexp.QuoteMeta(path)+` \(unix datagram\)`))
		return phaseRun{p: p, summary: sigDatagramSummary(0, 0, "0 datagrams"), files: []string{path}}
	}},
	{name: "listening/echo-tcp", start: func(t *testing.T, env *signalEnv) phaseRun {
		p := sigSonde(t, proctest.Stdio{}, "echo", "-v", "127.0.0.1", "0")
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigEchoStreamSummary}
	}},
	{name: "listening/echo-udp", start: func(t *testing.T, env *signalEnv) phaseRun {
		p := sigSonde(t, proctest.Stdio{}, "echo", "-uv", "127.0.0.1", "0")
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigEchoDatagramSummary}
	}},
	{name: "listening/echo-unix-stream", start: func(t *testing.T, env *signalEnv) phaseRun {
		path := filepath.Join(porttest.SocketDir(t), "e.sock")
		p := sigSonde(t, proctest.Stdio{}, "echo", "-Uv", path)
		p.WaitStderr(t, regexp.MustCompile(`sonde: listening on `+regexp.QuoteMeta(path)+` \(unix stream\)`))
		return phaseRun{p: p, summary: sigEchoStreamSummary, files: []string{path}}
	}},
	{name: "listening/echo-unix-datagram", start: func(t *testing.T, env *signalEnv) phaseRun {
		path := filepath.Join(porttest.SocketDir(t), "e.sock")
		p := sigSonde(t, proctest.Stdio{}, "echo", "-uUv", path)
		p.WaitStderr(t, regexp.MustCompile(`sonde: listening on `+regexp.QuoteMeta(path)+` \(unix datagram\)`))
		return phaseRun{p: p, summary: sigEchoDatagramSummary, files: []string{path}}
	}},
	{name: "listening/relay-tcp", start: func(t *testing.T, env *signalEnv) phaseRun {
		target := porttest.ClosedPort(t)
		p := sigSonde(t, proctest.Stdio{}, "relay", "-v", "127.0.0.1:0", target.String())
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigRelaySummary}
	}},
	{name: "listening/relay-udp", start: func(t *testing.T, env *signalEnv) phaseRun {
		target := porttest.ClosedPort(t)
		p := sigSonde(t, proctest.Stdio{}, "relay", "-uv", "127.0.0.1:0", target.String())
		p.ListenAddr(t)
		return phaseRun{p: p, summary: sigRelayUDPSummary}
	}},

	// Retrying, between probes, mid-scan.
	{name: "retrying/wait", start: func(t *testing.T, env *signalEnv) phaseRun {
		closed := porttest.ClosedPort(t)
		p := sigSonde(t, proctest.Stdio{}, "wait", "-v", "-i", "1h", "127.0.0.1", strconv.Itoa(int(closed.Port())))
		p.WaitStderr(t, regexp.MustCompile(`(?m)^sonde: attempt 1: `))
		return phaseRun{p: p, summary: sigWaitSummary(closed.String(), "1 attempt")}
	}},
	{name: "between-probes/ping", skip: syscall.SIGINT, start: func(t *testing.T, env *signalEnv) phaseRun {
		ln := porttest.Listener(t)
		p := sigSonde(t, proctest.Stdio{}, "ping", "-v", "-i", "1h", "127.0.0.1", strconv.Itoa(int(ln.Port())))
		seq1 := regexp.MustCompile(`(?m)^127\.0\.0\.1:\d+: seq=1 time=`)
		proctest.PollUntil(t, "ping's first probe line", p, func() bool { return seq1.MatchString(p.Stdout.String()) })
		return phaseRun{p: p, report: sigPingSummary(int(ln.Port()), "1", 1)}
	}},
	{name: "mid-scan/scan", start: func(t *testing.T, env *signalEnv) phaseRun {
		// Every port of the namespace's 127.0.0.1 is closed; -i spaces
		// the probes out, so the scan is surely in the middle.
		p := sigSonde(t, proctest.Stdio{}, "scan", "-v", "-i", "100ms", "127.0.0.1", "1-1000")
		secondPort := regexp.MustCompile(`(?m)^2/tcp +closed`)
		proctest.PollUntil(t, "the report of port 2", p, func() bool { return secondPort.MatchString(p.Stdout.String()) })
		return phaseRun{p: p,
			report: regexp.MustCompile(`(?m)^127\.0\.0\.1: 0 open, \d+ closed, 0 filtered; \d+ tcp ports of 1000 \(interrupted\) scanned in \S+$`)}
	}},
}

// sigSonde starts the sonde under test.
func sigSonde(t *testing.T, s proctest.Stdio, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, s, sondeBin, args...)
}

// sondeWithResolvConf starts sonde in a mount namespace of its own where
// /etc/resolv.conf is the test's (unshare -m makes its mounts private:
// nothing propagates to the machine). sh execs sonde, which keeps the
// process id the test signals.
func sondeWithResolvConf(t *testing.T, env *signalEnv, s proctest.Stdio, args ...string) *proctest.Proc {
	t.Helper()
	netnstest.RequireProgram(t, "unshare")
	netnstest.RequireProgram(t, "mount")
	p := proctest.StartCmd(t, s, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "unshare", append([]string{"-m", "--", "sh", "-c",
			`mount --bind "$0" /etc/resolv.conf && exec "$@"`, env.resolvConf, sondeBin}, args...)...)
		cmd.Env = append(os.Environ(), "GODEBUG=netdns=go") // the Go resolver, which reads resolv.conf
		return cmd
	})
	return p
}

// fakeResolvConf writes a resolv.conf naming 127.0.0.1 as the only DNS
// server, which in the namespace is the test's silent one.
func fakeResolvConf(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "resolv.conf")
	conf := "# sonde reliability test: a DNS server that never answers\nnameserver 127.0.0.1\noptions timeout:30 attempts:1\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dnsServer reads DNS queries on 127.0.0.1:53 and answers none.
type dnsServer struct {
	mu    sync.Mutex
	names map[string]bool
	next  int
}

func silentDNS(t *testing.T) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{names: make(map[string]bool)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if name, ok := dnsQueryName(buf[:n]); ok {
				d.mu.Lock()
				d.names[name] = true
				d.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return d
}

// name returns a fresh name, in no hosts file, for one subtest.
func (d *dnsServer) name(t *testing.T) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	return fmt.Sprintf("hang%d.sonde-test.example", d.next)
}

// waitQuery waits until a query for name has reached the server: sonde
// is resolving it.
func (d *dnsServer) waitQuery(t *testing.T, p *proctest.Proc, name string) {
	t.Helper()
	if !proctest.PollUntil(t, "a DNS query for "+name, p, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.names[name]
	}) {
		t.Fatalf("sonde exited (%d) before asking DNS for %s\nstderr:\n%s", p.Cmd.ProcessState.ExitCode(), name, p.Stderr.String())
	}
}

// checkHostResolvConf checks, while a sonde has the fake resolv.conf
// mounted, that the machine's /etc/resolv.conf is still its own.
func checkHostResolvConf(t *testing.T, env *signalEnv) {
	t.Helper()
	if now, err := os.ReadFile("/etc/resolv.conf"); err != nil || string(now) != env.hostResolv {
		t.Fatalf("the fake resolv.conf leaked to the machine's /etc/resolv.conf (%v):\n%s", err, now)
	}
}

// dnsQueryName reads the question name of a DNS query (RFC 1035 4.1.2).
func dnsQueryName(msg []byte) (string, bool) {
	if len(msg) < 12 {
		return "", false
	}
	var labels []string
	for i := 12; i < len(msg); {
		n := int(msg[i])
		if n == 0 {
			return strings.ToLower(strings.Join(labels, ".")), true
		}
		if n&0xc0 != 0 || i+1+n > len(msg) {
			return "", false
		}
		labels = append(labels, string(msg[i+1:i+1+n]))
		i += 1 + n
	}
	return "", false
}

// waitSynSent waits until p has a TCP socket in SYN_SENT to port: it is
// connecting, and the peer does not answer.
func waitSynSent(t *testing.T, p *proctest.Proc, port int) {
	t.Helper()
	if !proctest.PollUntil(t, fmt.Sprintf("a SYN to port %d", port), p, func() bool { return synSentBy(p.Cmd.Process.Pid, port) }) {
		t.Fatalf("sonde exited (%d) before connecting\nstderr:\n%s", p.Cmd.ProcessState.ExitCode(), p.Stderr.String())
	}
}

func synSentBy(pid, port int) bool {
	var inodes []string
	for _, s := range proctest.InetSockets("tcp", "tcp6") {
		if s.State == "02" && s.RemotePort == port { // SYN_SENT
			inodes = append(inodes, s.Inode)
		}
	}
	return proctest.HoldsSocket(pid, inodes)
}

// sigAcceptOne accepts one connection, closed when the test ends.
func sigAcceptOne(t *testing.T, ln net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- c
	}()
	return ch
}

func sigDial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, proctest.ReadyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sigListenPacket(t *testing.T, network, addr string) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pc.Close()
		if network == "unixgram" {
			os.Remove(addr)
		}
	})
	return pc
}

// sigHeldPipe is sonde's stdin: a pipe the test keeps open, so stdin never
// ends during the phase.
type sigHeldPipe struct{ r, w *os.File }

func sigHeldStdin(t *testing.T) sigHeldPipe {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		r.Close()
	})
	return sigHeldPipe{r, w}
}

// sigExchange moves data both ways on a stream session: "abc" from sonde's
// stdin to the peer, "12345" from the peer to sonde's stdout.
func sigExchange(t *testing.T, p *proctest.Proc, stdin *os.File, peer net.Conn) {
	t.Helper()
	if peer == nil {
		t.Fatal("no connection from sonde")
	}
	sigWrite(t, stdin, "abc")
	peer.SetDeadline(time.Now().Add(proctest.ReadyTimeout))
	buf := make([]byte, 3)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "abc" {
		t.Fatalf("the peer read %q, %v; want what sonde's stdin gave, abc\nstderr:\n%s", buf, err, p.Stderr.String())
	}
	if _, err := io.WriteString(peer, "12345"); err != nil {
		t.Fatal(err)
	}
	sigWaitStdout(t, p, "12345")
}

func sigWrite(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
}

func sigWriteTo(t *testing.T, pc net.PacketConn, s string, to net.Addr) {
	t.Helper()
	if _, err := pc.WriteTo([]byte(s), to); err != nil {
		t.Fatal(err)
	}
}

// sigReadDatagram reads one datagram, which must be want, and returns its
// sender.
func sigReadDatagram(t *testing.T, pc net.PacketConn, want string) net.Addr {
	t.Helper()
	pc.SetReadDeadline(time.Now().Add(proctest.ReadyTimeout))
	buf := make([]byte, 64)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != want {
		t.Fatalf("the peer read %q, %v; want %q", buf[:n], err, want)
	}
	return from
}

func sigWaitStdout(t *testing.T, p *proctest.Proc, want string) {
	t.Helper()
	if !proctest.PollUntil(t, "sonde to write "+want, p, func() bool { return p.Stdout.String() == want }) {
		t.Fatalf("sonde exited (%d) before writing %q to stdout (got %q)\nstderr:\n%s",
			p.Cmd.ProcessState.ExitCode(), want, p.Stdout.String(), p.Stderr.String())
	}
}
