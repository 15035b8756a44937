//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// startSonde runs the sonde command (the test binary, via TestMain) with a
// ready file, and returns once the socket is ready, with its address.
func startSonde(t *testing.T, stdin io.Reader, stdout io.Writer, args ...string) (*proctest.Proc, string) {
	t.Helper()
	return startWrapped(t, stdin, stdout, append([]string{sondeBinary(t)}, args...)...)
}

func sondeBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sonde")
	if err != nil {
		t.Fatalf("sonde not in PATH (TestMain sets it up): %v", err)
	}
	return bin
}

// startWrapped is startSonde for a command line that runs sonde in its
// own way (through sh, say): argv is the whole command.
func startWrapped(t *testing.T, stdin io.Reader, stdout io.Writer, argv ...string) (*proctest.Proc, string) {
	t.Helper()
	return startReady(t, proctest.Stdio{Stdin: stdin, Stdout: stdout}, func(ctx context.Context) *exec.Cmd {
		return exec.CommandContext(ctx, argv[0], argv[1:]...)
	})
}

// startReady starts the command mk builds, which runs sonde, with a ready
// file, and returns once the socket is ready, with its address.
func startReady(t *testing.T, s proctest.Stdio, mk func(ctx context.Context) *exec.Cmd) (*proctest.Proc, string) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	p := proctest.StartCmd(t, s, func(ctx context.Context) *exec.Cmd {
		cmd := mk(ctx)
		cmd.Env = append(cmd.Environ(), "SONDE_READY="+ready)
		return cmd
	})
	addr := proctest.WaitFile(t, p, ready, p.Name+" to be ready", func(b []byte) bool { return len(b) > 0 })
	return p, string(addr)
}

// A signal while listening on a Unix socket: the socket file is removed,
// the -v summary printed, and the exit code tells which signal it was. A
// hang-up (the terminal closed) cleans up as SIGTERM does.
func TestSignalRemovesUnixSocket(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			path := filepath.Join(porttest.SocketDir(t), "s.sock")
			p, _ := startSonde(t, nil, io.Discard, "-lU", "-v", path)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("socket file missing while listening: %v", err)
			}
			p.Cmd.Process.Signal(tc.sig)
			if code := p.Wait(t); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, p.Stderr)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket file left behind after %v: %v", tc.sig, err)
			}
			// No client came: the summary says so (it was missing).
			if !strings.Contains(p.Stderr.String(), "sonde: sent 0 bytes, received 0 bytes in ") {
				t.Errorf("no -v summary after %v; stderr:\n%s", tc.sig, p.Stderr)
			}
		})
	}
}

// Ctrl-C in the middle of a session prints the -v summary and exits 130.
func TestInterruptPrintsSummary(t *testing.T) {
	ln := porttest.Listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("12345"))
			accepted <- c
		}
		close(accepted)
	}()
	pr, pw, err := os.Pipe() // stdin that never ends (an *os.File, so Wait need not copy it)
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	var out bytes.Buffer
	p, _ := startSonde(t, pr, &out, "-v", ln.Addr().String())
	c := <-accepted
	if c == nil {
		t.Fatal("sonde never connected")
	}
	defer c.Close()
	pw.Write([]byte("abc"))
	buf := make([]byte, 3)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("reading what sonde sent: %v", err)
	}
	p.Cmd.Process.Signal(syscall.SIGINT)
	if code := p.Wait(t); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if !strings.Contains(p.Stderr.String(), "sonde: sent 3 bytes, received 5 bytes in ") {
		t.Errorf("no -v summary after Ctrl-C; stderr:\n%s", p.Stderr)
	}
	if out.String() != "12345" {
		t.Errorf("stdout %q, want 12345", out.String())
	}
}

// A reader of sonde's stdout that goes away (sonde … | head -c 10) ends
// the session quietly, exit 0.
func TestClosedStdoutIsQuiet(t *testing.T) {
	ln := porttest.Listen(t)
	for i, verbose := range []bool{false, true} {
		go flood(ln, "xy"[i])
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"-d", ln.Addr().String()}
		if verbose {
			args = append([]string{"-v"}, args...) // the observed copy loop
		}
		p, _ := startSonde(t, nil, w, args...)
		w.Close()
		head := make([]byte, 10)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if code := p.Wait(t); code != 0 {
			t.Errorf("verbose=%v: exit %d after stdout closed, want 0; stderr:\n%s", verbose, code, p.Stderr)
		}
		if strings.Contains(p.Stderr.String(), "error") || strings.Contains(p.Stderr.String(), "broken pipe") {
			t.Errorf("verbose=%v: stderr should be quiet, got:\n%s", verbose, p.Stderr)
		}
	}
}

// flood sends the next client of ln 64 MiB of b at most, far beyond any
// pipe buffer, until the client goes away.
func flood(ln net.Listener, b byte) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	chunk := bytes.Repeat([]byte{b}, 64<<10)
	c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	for range 1000 {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// Port 0 is always reported; Ctrl-C prints the totals and exits 130, a
// hang-up the same and exits 129.
func TestRelayInterrupt(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGHUP, exitHangUp}} {
		t.Run(tc.sig.String(), func(t *testing.T) { testRelayInterrupt(t, tc.sig, tc.code) })
	}
}

func testRelayInterrupt(t *testing.T, sig syscall.Signal, code int) {
	target := porttest.Listen(t)
	go func() {
		c, err := target.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	var stdout bytes.Buffer
	p, addr := startSonde(t, strings.NewReader(""), &stdout, "relay", "127.0.0.1:0", target.Addr().String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "ping")
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("round trip through the relay: %v", err)
	}
	p.Cmd.Process.Signal(sig)
	if got := p.Wait(t); got != code {
		t.Errorf("exit %d, want %d", got, code)
	}
	want := regexp.MustCompile(`(?m)\Asonde: listening on 127\.0\.0\.1:\d+ \(tcp\), relaying to ` + regexp.QuoteMeta(target.Addr().String()) + "\n" +
		`sonde: relayed 1 connection \(0 refused, 0 could not reach the target\): 4 bytes to target, 4 bytes to clients in \S+\n\z`)
	if !want.MatchString(p.Stderr.String()) {
		t.Errorf("stderr does not match %s:\n%s", want, p.Stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}

// Ctrl-C cuts the connections a relay carries with a reset, both ways: a
// client in the middle of an answer must not take the cut for its end.
func TestRelayInterruptResetsConnections(t *testing.T) {
	target := porttest.Listen(t)
	targetErr := porttest.ServeOne(target, func(c net.Conn) error {
		c.Write([]byte("the first half of an answer"))
		_, err := c.Read(make([]byte, 1)) // the relay's cut
		return err
	})
	p, addr := startSonde(t, strings.NewReader(""), io.Discard, "relay", "127.0.0.1:0", target.Addr().String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len("the first half"))); err != nil {
		t.Fatalf("reading through the relay: %v", err)
	}
	p.Cmd.Process.Signal(syscall.SIGINT)
	if code := p.Wait(t); code != exitInterrupted {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, p.Stderr)
	}
	_, err = io.ReadAll(c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the client read to %v after the relay was interrupted, want a reset", err)
	}
	if err := <-targetErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the target read %v after the relay was interrupted, want a reset", err)
	}
}

// A signal ignored when sonde starts stays ignored, as in a C program: a
// job started with & by a script (which ignores SIGINT and SIGQUIT), trap
// "" INT, nohup (SIGHUP). The listener goes on to serve its client, and
// exits 0 when it is done.
func TestIgnoredSignalsStayIgnored(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string // runs sonde as "$0" "$@"; $SONDE_PID is a file for its pid
		sigs   []syscall.Signal
	}{
		{"background job", `"$0" "$@" & echo $! > "$SONDE_PID"; wait $!`, []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT}},
		{"trap INT", `trap "" INT; echo $$ > "$SONDE_PID"; exec "$0" "$@"`, []syscall.Signal{syscall.SIGINT}},
		{"nohup", `trap "" HUP; echo $$ > "$SONDE_PID"; exec "$0" "$@"`, []syscall.Signal{syscall.SIGHUP}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("SONDE_PID", pidFile)
			var stdout bytes.Buffer
			p, addr := startWrapped(t, nil, &stdout, "sh", "-c", tc.script, sondeBinary(t), "-l", "127.0.0.1", "0")
			pid := proctest.WaitPid(t, pidFile)
			for _, sig := range tc.sigs {
				if err := syscall.Kill(pid, sig); err != nil {
					t.Fatal(err)
				}
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("sonde stopped listening after %v: %v", tc.sigs, err)
			}
			io.WriteString(c, "still here")
			c.Close()
			if code := p.Wait(t); code != 0 {
				t.Errorf("exit %d after %v, want 0 (the signals ignored); stderr:\n%s", code, tc.sigs, p.Stderr)
			}
			if stdout.String() != "still here" {
				t.Errorf("stdout %q, want %q", stdout.String(), "still here")
			}
		})
	}
}
