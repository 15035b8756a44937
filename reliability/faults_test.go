//go:build linux

package reliability

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sondeproject/sonde/internal/faultnet"
	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// The faults of a bad but usable path: 20 ms round trip ± 10 ms (so
// packets overtake each other), 3 % of packets lost, 1 % duplicated.
var lossy = faultnet.Faults{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.03, Duplicate: 0.01}

// farSonde runs sonde in the far namespace of n.
func farSonde(t *testing.T, n *faultnet.Net, s proctest.Stdio, args ...string) *proctest.Proc {
	t.Helper()
	p := proctest.StartCmd(t, s, func(ctx context.Context) *exec.Cmd { return n.FarCommand(ctx, sondeBin, args...) })
	p.Name = "sonde (far)"
	return p
}

// nearSonde runs sonde in the test's own namespace.
func nearSonde(t *testing.T, s proctest.Stdio, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, s, sondeBin, args...)
}

// TestFaultIntegrity moves 4 MiB each way at once between two sondes
// across the lossy path, for each way sonde copies (splice and sendfile
// when plain, its own loop with -v, through TLS with --tls): every byte
// must arrive, once, in order, and both ends must exit 0.
// SONDE_FAULT_MIB=N moves N MiB each way instead, for a longer run.
func TestFaultIntegrity(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, lossy)
	size := 4 << 20
	if mib, err := strconv.Atoi(os.Getenv("SONDE_FAULT_MIB")); err == nil && mib > 0 {
		size = mib << 20
	}
	var moved int64
	for _, v := range []struct {
		name         string
		listen, dial []string
	}{
		{"plain", nil, nil},
		{"verbose", []string{"-v"}, []string{"-v"}},
		{"tls", []string{"--tls"}, []string{"--tls", "--insecure"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			up := proctest.RandomPayload(t, size)
			down := proctest.RandomPayload(t, size)
			gotUp, gotDown := proctest.NewOutFile(t), proctest.NewOutFile(t)
			l := farSonde(t, n, proctest.Stdio{Stdin: proctest.DataFile(t, down), Stdout: gotUp},
				append(v.listen, "-l", faultnet.Far.String(), "0")...)
			_, port := l.ListenAddr(t)
			c := nearSonde(t, proctest.Stdio{Stdin: proctest.DataFile(t, up), Stdout: gotDown},
				append(v.dial, faultnet.Far.String(), strconv.Itoa(port))...)
			c.ExpectExit(t, 0)
			l.ExpectExit(t, 0)
			proctest.SameBytes(t, "client to listener", gotUp.Contents(t), up)
			proctest.SameBytes(t, "listener to client", gotDown.Contents(t), down)
			moved += 2 * int64(size)
		})
	}
	t.Logf("FIGURES integrity: %d bytes moved under %s; %s", moved, lossy, n.Stats())
	if s := n.Stats(); s.Dropped == 0 || s.Reordered == 0 {
		t.Errorf("the faulty link dropped %d and reordered %d packets: the test did not test faults", s.Dropped, s.Reordered)
	}
}

// TestFaultResetMidStream: across a path that delays, reorders and
// duplicates, a peer sends 1 MiB, waits until sonde's kernel has
// acknowledged all of it, then resets the connection. sonde must write
// every byte to stdout, then say "connection reset by peer … after 1048576
// bytes received" and exit 1, both when splicing (plain) and when copying
// itself (-v). (No loss here: a lost RST is never sent again, and the test
// would only measure TCP's keepalive.)
func TestFaultResetMidStream(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, faultnet.Faults{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Duplicate: 0.02})
	const size = 1 << 20
	for _, v := range []struct {
		name  string
		flags []string
	}{{"plain", nil}, {"verbose", []string{"-v"}}} {
		t.Run(v.name, func(t *testing.T) {
			payload := proctest.RandomPayload(t, size)
			ln, err := net.Listen("tcp", net.JoinHostPort(faultnet.Near.String(), "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			peerErr := make(chan error, 1)
			go func() { peerErr <- sendAndReset(ln, payload) }()
			stdinR, stdinW := pipe(t) // held open: sonde must not end for stdin
			defer stdinW.Close()
			s := farSonde(t, n, proctest.Stdio{Stdin: stdinR},
				append(v.flags, faultnet.Near.String(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))...)
			stdinR.Close()
			s.ExpectExit(t, 1)
			if err := <-peerErr; err != nil {
				t.Fatal(err)
			}
			proctest.SameBytes(t, "sonde stdout before the reset", s.Stdout.Bytes(), payload)
			want := regexp.MustCompile(`(?m)^sonde: connection reset by peer \S+ after ` + strconv.Itoa(size) + ` bytes received$`)
			if !want.MatchString(s.Stderr.String()) {
				t.Errorf("sonde stderr should match %q; got:\n%s", want, s.Stderr.String())
			}
		})
	}
}

// sendAndReset accepts one connection, sends payload, waits until the
// peer has acknowledged every byte (the send queue is empty), and closes
// with SO_LINGER 0, which sends a RST.
func sendAndReset(ln net.Listener, payload []byte) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	defer tc.Close()
	if _, err := tc.Write(payload); err != nil {
		return err
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(proctest.ReadyTimeout)
	for {
		var unacked int
		var ierr error
		raw.Control(func(fd uintptr) {
			unacked, ierr = ioctlInt(fd, syscall.TIOCOUTQ)
		})
		if ierr != nil {
			return ierr
		}
		if unacked == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peer never acknowledged the last %d bytes", unacked)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tc.SetLinger(0); err != nil {
		return err
	}
	return nil
}

func ioctlInt(fd uintptr, req uintptr) (int, error) {
	var v int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&v))); errno != 0 {
		return 0, errno
	}
	return int(v), nil
}

// TestFaultIdleTimeout: with -w 3 across the lossy path, a peer that sends
// a line every 500 ms for 4 s (longer than -w: a timer that counted from
// the start, not from the last byte, would fire) and then goes silent with
// the connection open. sonde must print all eight lines, then give up
// with "no data to or from … for 3s" and exit 1, and not before 3 s of
// silence (a lower bound only: a slow machine can make it later, never
// earlier).
func TestFaultIdleTimeout(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, lossy)
	ln, err := net.Listen("tcp", net.JoinHostPort(faultnet.Near.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const lines = 8
	lastSent := make(chan time.Time, 1)
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var last time.Time
		for i := range lines {
			if i > 0 {
				time.Sleep(500 * time.Millisecond)
			}
			fmt.Fprintf(c, "line %d\n", i)
			last = time.Now()
		}
		lastSent <- last
		<-release // silent, connection open
	}()
	stdinR, stdinW := pipe(t)
	defer stdinW.Close()
	s := farSonde(t, n, proctest.Stdio{Stdin: stdinR}, "-w", "3", faultnet.Near.String(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	stdinR.Close()
	s.ExpectExit(t, 1)
	ended := time.Now()
	var want strings.Builder
	for i := range lines {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	proctest.SameBytes(t, "sonde stdout", s.Stdout.Bytes(), []byte(want.String()))
	if !regexp.MustCompile(`(?m)^sonde: no data to or from \S+ for 3s, closing$`).MatchString(s.Stderr.String()) {
		t.Errorf("sonde should report the idle timeout; stderr:\n%s", s.Stderr.String())
	}
	select {
	case last := <-lastSent:
		if silence := ended.Sub(last); silence < 3*time.Second {
			t.Errorf("sonde gave up %s after the last byte was sent, before -w 3 had passed", silence)
		}
	default:
		t.Error("sonde exited before the peer had sent every line")
	}
	t.Logf("FIGURES idle: %s", n.Stats())
}

// TestFaultConnectTimeout: a black hole (every packet lost) makes connect
// wait for -w, then fail with "no answer within 2s" and exit 1 — not
// earlier.
func TestFaultConnectTimeout(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, faultnet.Faults{Loss: 1})
	start := time.Now()
	s := farSonde(t, n, proctest.Stdio{}, "-w", "2", faultnet.Near.String(), "9")
	s.ExpectExit(t, 1)
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("connect gave up after %s, before -w 2", d)
	}
	if !strings.Contains(s.Stderr.String(), "no answer within 2s") {
		t.Errorf("sonde should say it had no answer within 2s; stderr:\n%s", s.Stderr.String())
	}
}

// TestFaultWait: `sonde wait` keeps its promise across a path that loses
// 30 % of packets (SYNs and SYN-ACKs included): it keeps trying while
// nothing listens, succeeds (exit 0, state "open") once something does,
// and, over a black hole, times out with exit 1 no earlier than --timeout.
func TestFaultWait(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, faultnet.Faults{Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.3})
	t.Run("opens", func(t *testing.T) {
		port := freeNearPort(t)
		w := farSonde(t, n, proctest.Stdio{}, "wait", "--json", "-i", "100ms", "--timeout", "80s", faultnet.Near.String(), strconv.Itoa(port))
		// Let it fail a few times first (each failure is a JSON line).
		proctest.PollUntil(t, "wait to report 3 failed attempts", w, func() bool {
			return strings.Count(w.Stdout.String(), "\n") >= 3
		})
		porttest.ListenerAt(t, net.JoinHostPort(faultnet.Near.String(), strconv.Itoa(port)))
		w.ExpectExit(t, 0)
		sum := lastJSON(t, w.Stdout.String())
		if sum["type"] != "summary" || sum["state"] != "open" {
			t.Errorf("wait summary should say open; got %v", sum)
		}
		if a, _ := sum["attempts"].(float64); a < 4 {
			t.Errorf("wait summary counts %v attempts, want at least 4 (3 failed, 1 open)", sum["attempts"])
		}
	})
	t.Run("times out", func(t *testing.T) {
		n.SetFaults(faultnet.Faults{Loss: 1})
		defer n.SetFaults(faultnet.Faults{Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.3})
		start := time.Now()
		w := farSonde(t, n, proctest.Stdio{}, "wait", "--json", "--timeout", "3s", faultnet.Near.String(), "9")
		w.ExpectExit(t, 1)
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("wait gave up after %s, before --timeout 3s", d)
		}
		if sum := lastJSON(t, w.Stdout.String()); sum["state"] != "timeout" {
			t.Errorf("wait summary should say timeout; got %v", sum)
		}
	})
	t.Logf("FIGURES wait: %s", n.Stats())
}

// TestFaultPing: `sonde ping --udp` against sonde's UDP echo server across
// a path that loses, duplicates and reorders datagrams, and TCP ping across
// one that loses SYNs. Every probe is reported exactly once (a duplicate
// reply is not a second success), the summary's counts agree with the
// probe lines, and ping exits 0 because some probes succeeded.
func TestFaultPing(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	n := faultnet.New(t, faultnet.Faults{Delay: 5 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.1, Duplicate: 0.2})
	echo := nearSonde(t, proctest.Stdio{}, "echo", "-u", faultnet.Near.String(), "0")
	_, udpPort := echo.ListenAddr(t)
	tcp := porttest.ListenerAt(t, net.JoinHostPort(faultnet.Near.String(), "0"))
	const count = 40
	for _, v := range []struct {
		name string
		args []string
	}{
		{"udp", []string{"--udp", faultnet.Near.String(), strconv.Itoa(udpPort)}},
		{"tcp", []string{faultnet.Near.String(), strconv.Itoa(int(tcp.Port()))}},
	} {
		t.Run(v.name, func(t *testing.T) {
			p := farSonde(t, n, proctest.Stdio{}, append([]string{"ping", "--json", "-c", strconv.Itoa(count), "-i", "50ms", "-w", "1500ms"}, v.args...)...)
			p.ExpectExit(t, 0)
			seen := map[int]bool{}
			ok := 0
			var sum map[string]any
			for line := range strings.Lines(p.Stdout.String()) {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("ping --json printed a line that is not JSON: %q", line)
				}
				if m["type"] == "summary" {
					sum = m
					continue
				}
				seq := int(m["seq"].(float64))
				if seen[seq] {
					t.Errorf("probe %d reported twice", seq)
				}
				seen[seq] = true
				if m["ok"] == true {
					ok++
				}
			}
			if len(seen) != count {
				t.Errorf("ping reported %d probes, want %d", len(seen), count)
			}
			if sum == nil {
				t.Fatalf("ping printed no summary:\n%s", p.Stdout.String())
			}
			if sum["sent"] != float64(count) || sum["ok"] != float64(ok) {
				t.Errorf("summary says sent %v ok %v; the probe lines say %d sent, %d ok", sum["sent"], sum["ok"], count, ok)
			}
			if want := float64(count-ok) * 100 / count; absDiff(sum["loss_pct"].(float64), want) > 0.01 {
				t.Errorf("summary says %v%% loss, want %.2f%%", sum["loss_pct"], want)
			}
			t.Logf("FIGURES ping %s: %d/%d ok, summary %v", v.name, ok, count, sum)
		})
	}
	t.Logf("FIGURES ping: %s", n.Stats())
}

func absDiff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

// lastJSON decodes the last line of out.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %q (%v)", lines[len(lines)-1], err)
	}
	return m
}

// freeNearPort returns a port on the near side that nothing listens on.
func freeNearPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(faultnet.Near.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pipe returns an os.Pipe whose ends are closed when the test ends.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// sha256Reader hashes everything read from r.
func sha256Reader(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(r, 1<<16))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return n, sum, err
}
