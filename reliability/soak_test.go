//go:build linux

package reliability

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/proctest"
	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// The soak's load: idleClients connections held open for the whole run
// while shortClients more connect, talk and close, soakParallel at a time.
const (
	idleClients  = 1000
	shortClients = 3000
	soakParallel = 32
)

// soakKind is what a server does with a client's bytes: echo them back
// (echo, and relay to an echo server), or write them to stdout (-k).
type soakKind int

const (
	echoes soakKind = iota
	toStdout
)

// soakResult is what the load saw.
type soakResult struct {
	conns  int64
	bytes  int64
	errors []string
	lines  []string // what the clients sent, for toStdout servers
}

// soak puts the load on the server at addr and checks every answer.
// during, if set, runs while the idle clients are all connected.
func soak(t *testing.T, addr string, kind soakKind, during func()) soakResult {
	t.Helper()
	var res soakResult
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(res.errors) < 20 {
			res.errors = append(res.errors, fmt.Sprintf(format, args...))
		} else if len(res.errors) == 20 {
			res.errors = append(res.errors, "(more errors left out)")
		}
	}
	var conns, moved atomic.Int64
	// talk sends a message on c and, for echo servers, checks it comes back.
	talk := func(c net.Conn, msg []byte) error {
		c.SetDeadline(time.Now().Add(proctest.Deadline))
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			return err
		}
		got, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		want := msg
		if kind == toStdout {
			want = nil
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("got %d bytes back, want %d", len(got), len(want))
		}
		moved.Add(int64(len(msg)))
		return nil
	}
	message := func(i int) []byte {
		if kind == toStdout { // one line, written at once: one chunk on stdout
			return fmt.Appendf(nil, "client %d\n", i)
		}
		return bytes.Repeat([]byte{byte('a' + i%26)}, 1+(i*7919)%16384)
	}

	idle := make([]net.Conn, 0, idleClients)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range idleClients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle client %d: %v", i, err)
		}
		conns.Add(1)
		idle = append(idle, c)
	}
	if during != nil {
		during()
	}

	next := make(chan int)
	var wg sync.WaitGroup
	for range soakParallel {
		wg.Go(func() {
			for i := range next {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					fail("short client %d: %v", i, err)
					continue
				}
				conns.Add(1)
				if err := talk(c, message(idleClients+i)); err != nil {
					fail("short client %d: %v", i, err)
				}
				c.Close()
			}
		})
	}
	for i := range shortClients {
		next <- i
	}
	close(next)
	wg.Wait()

	// The idle clients were served all along: each one talks now.
	for i, c := range idle {
		wg.Go(func() {
			if err := talk(c, message(i)); err != nil {
				fail("idle client %d: %v", i, err)
			}
			c.Close()
		})
		if i%soakParallel == soakParallel-1 {
			wg.Wait()
		}
	}
	wg.Wait()
	idle = nil

	res.conns, res.bytes = conns.Load(), moved.Load()
	if kind == toStdout {
		for i := range idleClients + shortClients {
			res.lines = append(res.lines, string(message(i)))
		}
	}
	for _, e := range res.errors {
		t.Error(e)
	}
	return res
}

// checkLines checks that a -k listener wrote every client's line once.
func checkLines(t *testing.T, stdout string, res soakResult) {
	t.Helper()
	got := strings.SplitAfter(stdout, "\n")
	if got[len(got)-1] == "" {
		got = got[:len(got)-1]
	}
	slices.Sort(got)
	want := slices.Clone(res.lines)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("-k listener's stdout has %d lines, want the %d the clients sent, each once", len(got), len(want))
	}
}

// openFDs counts the open file descriptors of process pid ("self" for
// the test).
func openFDs(t *testing.T, pid string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// backTo polls until count() is at most baseline again (a guard of
// proctest.ReadyTimeout), and fails the test if it never is.
func backTo(t *testing.T, what string, baseline int, count func() int) {
	t.Helper()
	n := count()
	deadline := time.Now().Add(proctest.ReadyTimeout)
	for n > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = count()
	}
	if n > baseline {
		t.Errorf("%s: %d after the soak, baseline %d", what, n, baseline)
	}
}

// soakPrivate enters a private namespace with room for the soak: ports
// and file descriptors.
func soakPrivate(t *testing.T) bool {
	if !netnstest.Private(t) {
		return false
	}
	netnstest.SetLocalPortRange(t, 10000, 65000)
	need := uint64(4*(idleClients+shortClients) + 1000)
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < need {
		rl.Cur = max(rl.Max, need)
		rl.Max = rl.Cur
		// Root may raise the hard limit; children inherit the new one.
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			t.Fatalf("the soak needs %d file descriptors: %v", need, err)
		}
	}
	return true
}

// soakProcess soaks a sonde process started with args (a listener on
// 127.0.0.1 port 0): no client error, the idle clients really held (its
// descriptors rise by at least one per client), its descriptors back to
// where they were once the clients are gone, and its RSS reported.
func soakProcess(t *testing.T, kind soakKind, args ...string) {
	t.Helper()
	s := proctest.Start(t, proctest.Stdio{}, sondeBin, args...)
	_, port := s.ListenAddr(t)
	pid := strconv.Itoa(s.Cmd.Process.Pid)
	base := openFDs(t, pid)
	var peakFDs int
	var peakRSS string
	res := soak(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), kind, func() {
		// The kernel completes handshakes before sonde accepts them: wait
		// for sonde to hold every idle client.
		proctest.PollUntil(t, "sonde to accept every idle client", s, func() bool {
			peakFDs = openFDs(t, pid)
			return peakFDs >= base+idleClients
		})
		peakRSS = procStatus(t, pid, "VmRSS")
	})
	if peakFDs < base+idleClients {
		t.Errorf("with %d idle clients connected sonde had %d descriptors open, baseline %d: clients were not held", idleClients, peakFDs, base)
	}
	backTo(t, "sonde's open descriptors", base, func() int { return openFDs(t, pid) })
	after := openFDs(t, pid)
	hwm := procStatus(t, pid, "VmHWM")
	s.Cmd.Process.Signal(os.Interrupt)
	s.ExpectExit(t, 130)
	if kind == toStdout {
		checkLines(t, s.Stdout.String(), res)
	}
	// Not a figure to meet but a regression guard: -k once held 64 KiB per
	// idle client (88 MiB here).
	if kb, err := strconv.Atoi(strings.TrimSuffix(hwm, " kB")); err != nil || kb<<10 >= rssLimit {
		t.Errorf("sonde's peak RSS in the soak was %s, want < %d MiB", hwm, rssLimit>>20)
	}
	t.Logf("FIGURES soak %s: %d connections (%d idle held, %d short), %d bytes checked, %d errors; descriptors %d → %d → %d; RSS %s with all idle clients, peak %s",
		t.Name(), res.conns, idleClients, shortClients, res.bytes, len(res.errors), base, peakFDs, after, peakRSS, hwm)
}

// procStatus returns a field of /proc/PID/status ("VmRSS": "9876 kB").
func procStatus(t *testing.T, pid, field string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// inProcess runs a server (serve: Echo, Listen, Relay with their options
// built on s) in the test process and returns its address and a stop
// function that interrupts it and checks it returned the interruption.
func inProcess(t *testing.T, serve func(ctx context.Context, s modes.Server) error) (string, func()) {
	t.Helper()
	var stderr proctest.Buffer
	s := modes.Server{Network: "tcp", Listen: transport.Endpoint{Host: "127.0.0.1"}, UI: ui.New(&stderr, 0)}
	ready := make(chan net.Addr, 1)
	s.OnReady = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, s) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		cancel(nil)
		t.Fatalf("server ended before it was ready: %v\n%s", err, stderr.String())
	}
	return addr.String(), func() {
		cancel(&modes.Interrupted{Signal: "interrupt"})
		err := <-done
		var intr *modes.Interrupted
		if !errors.As(err, &intr) {
			t.Errorf("server returned %v, want the interruption\n%s", err, stderr.String())
		}
	}
}

// soakInProcess soaks a server run in the test process: no client error,
// goroutines back to the server's own count while it still runs (per
// client goroutines all ended), descriptors back to the baseline, and no
// goroutine left once it stopped (goleak).
func soakInProcess(t *testing.T, kind soakKind, serve func(ctx context.Context, s modes.Server) error) soakResult {
	t.Helper()
	fdBase := openFDs(t, "self")
	others := goleak.IgnoreCurrent() // the test's own processes' goroutines
	addr, stop := inProcess(t, serve)
	goBase := runtime.NumGoroutine()
	res := soak(t, addr, kind, nil)
	backTo(t, "goroutines while the server runs", goBase, runtime.NumGoroutine)
	stop()
	goleak.VerifyNone(t, others)
	backTo(t, "the test's open descriptors", fdBase, func() int { return openFDs(t, "self") })
	t.Logf("FIGURES soak %s: %d connections, %d bytes checked, %d errors; goroutines back to %d, descriptors back to %d",
		t.Name(), res.conns, res.bytes, len(res.errors), goBase, fdBase)
	return res
}

// TestSoakEcho: `sonde echo` under 1000 idle clients held open and 3000
// short-lived ones.
func TestSoakEcho(t *testing.T) {
	t.Parallel()
	if !soakPrivate(t) {
		return
	}
	t.Run("process", func(t *testing.T) { soakProcess(t, echoes, "echo", "127.0.0.1", "0") })
	t.Run("in-process", func(t *testing.T) {
		soakInProcess(t, echoes, func(ctx context.Context, s modes.Server) error {
			return modes.Echo(ctx, &modes.EchoOptions{Server: s})
		})
	})
}

// TestSoakKeep: `sonde -l -k` under the same load; every client's line
// reaches stdout once.
func TestSoakKeep(t *testing.T) {
	t.Parallel()
	if !soakPrivate(t) {
		return
	}
	t.Run("process", func(t *testing.T) { soakProcess(t, toStdout, "-d", "-l", "-k", "127.0.0.1", "0") })
	t.Run("in-process", func(t *testing.T) {
		var out proctest.Buffer
		res := soakInProcess(t, toStdout, func(ctx context.Context, s modes.Server) error {
			return modes.Listen(ctx, &modes.Options{Server: s, Keep: true, NoStdin: true, Stdout: &out})
		})
		checkLines(t, out.String(), res)
	})
}

// TestSoakRelay: `sonde relay` to an echo server under the same load.
func TestSoakRelay(t *testing.T) {
	t.Parallel()
	if !soakPrivate(t) {
		return
	}
	echo := proctest.Start(t, proctest.Stdio{}, sondeBin, "echo", "127.0.0.1", "0")
	_, port := echo.ListenAddr(t)
	upstream := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	t.Run("process", func(t *testing.T) { soakProcess(t, echoes, "relay", "127.0.0.1:0", upstream) })
	t.Run("in-process", func(t *testing.T) {
		soakInProcess(t, echoes, func(ctx context.Context, s modes.Server) error {
			return modes.Relay(ctx, &modes.RelayOptions{Server: s, Target: transport.Endpoint{Host: "127.0.0.1", Port: port}})
		})
	})
}
