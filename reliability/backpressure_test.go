//go:build linux

package reliability

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// slowSize is how much each slow-reader test pushes through sonde.
const slowSize = 256 << 20

// rssLimit is the most memory sonde may hold while a reader is slow: it
// must apply backpressure (stop reading), not buffer what it cannot send.
const rssLimit = 64 << 20

// stream is slowSize deterministic pseudo-random bytes.
func stream() io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'s', 'o', 'n', 'd', 'e'}), slowSize)
}

var streamSum = sync.OnceValue(func() [32]byte {
	h := sha256.New()
	io.Copy(h, stream())
	return [32]byte(h.Sum(nil))
})

// slowResult is what a slow reader read: byte count, SHA-256, error.
type slowResult struct {
	n   int64
	sum [32]byte
	err error
}

// slowRead reads r to the end in 128 KiB reads with a millisecond's pause
// after each (about 100 MB/s at best, far below what sonde can copy).
func slowRead(r io.Reader) slowResult {
	h := sha256.New()
	buf := make([]byte, 128<<10)
	var res slowResult
	for {
		k, err := r.Read(buf)
		h.Write(buf[:k])
		res.n += int64(k)
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			res.sum = [32]byte(h.Sum(nil))
			return res
		}
		time.Sleep(time.Millisecond)
	}
}

// slowReadAsync runs slowRead(r) in a goroutine; the channel gets its result.
func slowReadAsync(r io.Reader) <-chan slowResult {
	got := make(chan slowResult, 1)
	go func() { got <- slowRead(r) }()
	return got
}

// checkSlow checks what a slow reader got and how much memory sonde used.
func checkSlow(t *testing.T, peakRSS func() int64, r slowResult) {
	t.Helper()
	if r.err != nil {
		t.Errorf("slow reader: %v", r.err)
	}
	if r.n != slowSize || r.sum != streamSum() {
		t.Errorf("slow reader got %d bytes (sha256 %x), want %d (sha256 %x)", r.n, r.sum, slowSize, streamSum())
	}
	rss := peakRSS()
	t.Logf("FIGURES slow reader %s: %d MiB through sonde, peak RSS %.1f MiB", t.Name(), slowSize>>20, float64(rss)/(1<<20))
	if rss >= rssLimit {
		t.Errorf("sonde's peak RSS was %.1f MiB with a slow reader, want < %d MiB", float64(rss)/(1<<20), rssLimit>>20)
	}
}

// watchPeakRSS samples the process's peak resident set size (VmHWM of
// /proc/PID/status, which only grows) every 20 ms until it ends; the
// function returned waits for that end and gives the last sample, in
// bytes. (The rusage of wait4 will not do: Linux keeps in it the high
// water mark of the memory the child shared with its parent before exec,
// the test binary's own.)
func watchPeakRSS(t *testing.T, p *proctest.Proc) func() int64 {
	var peak atomic.Int64
	status := fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := vmHWM(status); kb > 0 {
				peak.Store(kb << 10)
			}
			select {
			case <-p.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		<-done
		if peak.Load() == 0 {
			t.Fatalf("never read the peak RSS of %s", p.Name)
		}
		return peak.Load()
	}
}

// vmHWM reads the VmHWM field of a /proc/PID/status file, in KiB; 0 when
// the process is gone.
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

func portOf(a net.Addr) string { return strconv.Itoa(a.(*net.TCPAddr).Port) }

// slowPeer accepts one connection on ln, in a goroutine, and reads it
// slowly to its end; the channel gets what it read.
func slowPeer(ln net.Listener) <-chan slowResult {
	got := make(chan slowResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- slowResult{err: err}
			return
		}
		defer c.Close()
		got <- slowRead(c)
	}()
	return got
}

// TestSlowReaderSender: sonde connects and sends 256 MiB from a pipe to a
// peer that reads slowly. (The plain run splices, the -v run copies
// through sonde's own buffer.)
func TestSlowReaderSender(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{nil, {"-v"}} {
		t.Run(fmt.Sprint(len(flags)), func(t *testing.T) {
			ln := porttest.Listen(t)
			got := slowPeer(ln)
			in, feed := pipe(t)
			s := proctest.Start(t, proctest.Stdio{Stdin: in}, sondeBin, append(flags, "127.0.0.1", portOf(ln.Addr()))...)
			peak := watchPeakRSS(t, s)
			in.Close()
			go func() { io.Copy(feed, stream()); feed.Close() }()
			s.ExpectExit(t, 0)
			checkSlow(t, peak, <-got)
		})
	}
}

// TestSlowReaderReceiver: a client sends 256 MiB as fast as it can to
// `sonde -l` (and to `sonde -l -k`), whose stdout is read slowly.
func TestSlowReaderReceiver(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{{"-l"}, {"-l", "-k"}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			slowEnd, out := pipe(t)
			s := proctest.Start(t, proctest.Stdio{Stdout: out}, sondeBin, append(flags, "127.0.0.1", "0")...)
			peak := watchPeakRSS(t, s)
			out.Close()
			_, port := s.ListenAddr(t)
			c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() {
				_, err := io.Copy(c, stream())
				c.Close()
				sent <- err
			}()
			keep := len(flags) == 2
			var from io.Reader = slowEnd
			if keep {
				// -k serves on after the client: read what it sent, then Ctrl-C.
				from = io.LimitReader(slowEnd, slowSize)
			}
			got := slowReadAsync(from)
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			r := <-got
			if keep {
				s.Cmd.Process.Signal(os.Interrupt)
				s.ExpectExit(t, 130)
				if rest, _ := io.ReadAll(slowEnd); len(rest) > 0 {
					t.Errorf("sonde -k wrote %d bytes more than the client sent", len(rest))
				}
			} else {
				s.ExpectExit(t, 0)
			}
			checkSlow(t, peak, r)
		})
	}
}

// TestSlowReaderRelay: a client sends 256 MiB through `sonde relay` to a
// target that reads slowly.
func TestSlowReaderRelay(t *testing.T) {
	t.Parallel()
	target := porttest.Listen(t)
	got := slowPeer(target)
	s := proctest.Start(t, proctest.Stdio{}, sondeBin, "relay", "127.0.0.1:0", target.Addr().String())
	peak := watchPeakRSS(t, s)
	_, port := s.ListenAddr(t)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(c, stream()); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	r := <-got
	c.Close()
	s.Cmd.Process.Signal(os.Interrupt)
	s.ExpectExit(t, 130)
	checkSlow(t, peak, r)
}

// TestSlowReaderEcho: a client sends 256 MiB to `sonde echo` as fast as
// it can and reads the echo slowly: the server must stop reading while it
// cannot write, not buffer the difference.
func TestSlowReaderEcho(t *testing.T) {
	t.Parallel()
	s := proctest.Start(t, proctest.Stdio{}, sondeBin, "echo", "127.0.0.1", "0")
	peak := watchPeakRSS(t, s)
	_, port := s.ListenAddr(t)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, stream())
		c.(*net.TCPConn).CloseWrite()
		sent <- err
	}()
	r := slowRead(c)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	s.Cmd.Process.Signal(os.Interrupt)
	s.ExpectExit(t, 130)
	checkSlow(t, peak, r)
}

// feedForever writes to w until it fails (the reader is gone), at most
// 4 GiB: a stdin that never ends.
func feedForever(w io.WriteCloser) {
	defer w.Close()
	buf := make([]byte, 64<<10)
	for range (4 << 30) / len(buf) {
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

// neverReads accepts one connection on ln and holds it open without
// reading until the test ends.
func neverReads(t *testing.T, ln net.Listener) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		<-done
		c.Close()
	}()
}

// TestPeerNeverReads: sonde sends an endless stdin to a peer that never
// reads, so its writes block once the socket buffers are full. -w 2 must
// still end it ("no data … for 2s", exit 1, not before 2 s), and so must
// Ctrl-C (exit 130, with the -v summary counting the bytes sent), whether
// sonde connected or listened.
func TestPeerNeverReads(t *testing.T) {
	t.Parallel()
	idleRE := regexp.MustCompile(`(?m)^sonde: no data to or from \S+ for 2s, closing$`)
	sentRE := regexp.MustCompile(`(?m)^sonde: sent ([0-9]+) bytes .*, received 0 bytes`)
	for _, v := range []struct {
		name   string
		listen bool
		flags  []string
	}{
		{"connect -w", false, []string{"-w", "2"}},
		{"listen -w", true, []string{"-w", "2"}},
		{"connect ctrl-c", false, []string{"-v"}},
		{"listen ctrl-c", true, []string{"-v"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			in, feed := pipe(t)
			var s *proctest.Proc
			if v.listen {
				s = proctest.Start(t, proctest.Stdio{Stdin: in}, sondeBin, append(v.flags, "-l", "127.0.0.1", "0")...)
				_, port := s.ListenAddr(t)
				c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close() // never read
			} else {
				ln := porttest.Listen(t)
				neverReads(t, ln)
				s = proctest.Start(t, proctest.Stdio{Stdin: in}, sondeBin, append(v.flags, "127.0.0.1", portOf(ln.Addr()))...)
			}
			in.Close()
			start := time.Now()
			go feedForever(feed)
			if v.flags[0] == "-w" {
				s.ExpectExit(t, 1)
				if d := time.Since(start); d < 2*time.Second {
					t.Errorf("sonde gave up after %s, before -w 2", d)
				}
				if !idleRE.MatchString(s.Stderr.String()) {
					t.Errorf("sonde should report the idle timeout; stderr:\n%s", s.Stderr.String())
				}
				return
			}
			// Wait until sonde is blocked: connected, and its stdin pipe
			// full too.
			s.WaitStderr(t, regexp.MustCompile(`(?m)^sonde: (connected to|accepted) `))
			// Both: stdin full alone may mean sonde has not read yet.
			proctest.PollUntil(t, "sonde to block on the full socket", s, func() bool {
				return pipeFull(feed) && bytesRead(s.Cmd.Process.Pid) >= 256<<10
			})
			s.Cmd.Process.Signal(os.Interrupt)
			s.ExpectExit(t, 130)
			m := sentRE.FindStringSubmatch(s.Stderr.String())
			if m == nil {
				t.Fatalf("sonde -v should print its summary on Ctrl-C; stderr:\n%s", s.Stderr.String())
			}
			if n, _ := strconv.Atoi(m[1]); n == 0 {
				t.Errorf("summary says 0 bytes sent; stderr:\n%s", s.Stderr.String())
			}
		})
	}
}

// pipeFull tells whether a pipe's buffer is full (FIONREAD on the write
// end reports the bytes waiting in it; 64 KiB is Linux's default size).
// bytesRead is how many bytes process pid has read (rchar in
// /proc/PID/io): stdin, for a sonde that reads nothing else.
func bytesRead(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func pipeFull(w *os.File) bool {
	raw, err := w.SyscallConn()
	if err != nil {
		return false
	}
	var n int
	var ierr error
	raw.Control(func(fd uintptr) { n, ierr = ioctlInt(fd, syscall.TIOCINQ) })
	return ierr == nil && n >= 64<<10
}
