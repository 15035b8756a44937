//go:build !windows

package modes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
	"go.uber.org/goleak"
	"golang.org/x/net/nettest"
)

// execGuard bounds every blocking step, so that a broken test fails
// instead of hanging; no test asserts on it.
const execGuard = 20 * time.Second

// startExecListener runs listen mode with a program on 127.0.0.1:0 and
// returns its address and a function that waits for Listen's result.
func startExecListener(t *testing.T, ctx context.Context, x *Exec, keep bool) (net.Addr, func() error, *syncBuffer) {
	t.Helper()
	var stderr syncBuffer
	o := &Options{Server: Server{Network: "tcp", Listen: transport.Endpoint{Host: "127.0.0.1"}, UI: ui.New(writerOnly{&stderr}, 1)},
		Keep: keep, Exec: x}
	x.Stderr = writerOnly{&stderr}
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	done := make(chan error, 1)
	go func() { done <- Listen(ctx, o) }()
	select {
	case a := <-ready:
		return a, func() error {
			select {
			case err := <-done:
				return err
			case <-time.After(execGuard):
				t.Fatal("listen did not end")
				return nil
			}
		}, &stderr
	case err := <-done:
		t.Fatalf("listen ended early: %v", err)
	case <-time.After(execGuard):
		t.Fatal("listener never became ready")
	}
	return nil, nil, nil
}

// writerOnly hides syncBuffer's ReadFrom (its embedded bytes.Buffer's,
// which does not lock) from the copy of the program's stderr.
type writerOnly struct{ w io.Writer }

func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

func shell(cmd string) *Exec {
	x, err := ShellExec(cmd)
	if err != nil {
		panic(err)
	}
	return x
}

func dial(t *testing.T, a net.Addr) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", a.String(), execGuard)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(execGuard))
	return c.(*net.TCPConn)
}

// TestExecKeepConcurrent: with -lk, each client has a program of its own,
// all running at once: every client gets its own echo while the others
// are still connected.
func TestExecKeepConcurrent(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithCancelCause(context.Background())
	addr, wait, _ := startExecListener(t, ctx, shell("cat"), true)
	const clients = 3
	conns := make([]*net.TCPConn, clients)
	for i := range conns {
		conns[i] = dial(t, addr)
	}
	// Round after round, every connection speaks and hears its own echo
	// before any of them closes.
	for round := range 3 {
		for i, c := range conns {
			msg := fmt.Sprintf("client %d round %d\n", i, round)
			if _, err := io.WriteString(c, msg); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				t.Fatalf("client %d: got %q (%v), want its own %q", i, got, err, msg)
			}
		}
	}
	for _, c := range conns {
		c.CloseWrite()
		if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
			t.Errorf("after half-close: %q, %v; want EOF", rest, err)
		}
		c.Close()
	}
	cancel(&Interrupted{Signal: "interrupt"})
	var intr *Interrupted
	if err := wait(); !errors.As(err, &intr) {
		t.Errorf("listen returned %v, want the interruption", err)
	}
}

// TestExecPeerCloseThenOutput: when the peer half-closes, the program sees
// EOF on stdin, and what it writes after that still reaches the peer.
func TestExecPeerCloseThenOutput(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, wait, _ := startExecListener(t, context.Background(), shell("cat; sleep 0.2; echo done"), false)
	c := dial(t, addr)
	defer c.Close()
	io.WriteString(c, "data\n")
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "data\ndone\n" {
		t.Errorf("got %q, %v; want the echo, then what the program wrote after EOF", got, err)
	}
	if err := wait(); err != nil {
		t.Errorf("listen: %v", err)
	}
}

// TestExecProgramExitsFirst: a program that ends without reading ends the
// session: the peer gets its output, then EOF, though it never closed.
func TestExecProgramExitsFirst(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, wait, _ := startExecListener(t, context.Background(), shell("echo bye"), false)
	c := dial(t, addr)
	defer c.Close()
	got, err := io.ReadAll(c) // EOF comes from sonde's half-close
	if err != nil || string(got) != "bye\n" {
		t.Errorf("got %q, %v; want the program's output, then EOF", got, err)
	}
	if err := wait(); err != nil { // and the session ends, the peer still open
		t.Errorf("listen: %v", err)
	}
}

// TestExecExitStatus: a program that fails is reported as such, after a
// session that delivered all its output.
func TestExecExitStatus(t *testing.T) {
	tests := []struct {
		cmd  string
		want string
	}{
		{"echo out; exit 3", `"echo out; exit 3" exited with status 3`},
		{"echo out; kill -9 $$", `"echo out; kill -9 $$" was killed by signal 9 (killed)`},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			addr, wait, _ := startExecListener(t, context.Background(), shell(tt.cmd), false)
			c := dial(t, addr)
			defer c.Close()
			c.CloseWrite()
			if got, _ := io.ReadAll(c); string(got) != "out\n" {
				t.Errorf("got %q, want the program's output", got)
			}
			err := wait()
			var pe *ProgramError
			if !errors.As(err, &pe) {
				t.Fatalf("listen returned %v, want a *ProgramError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

// TestExecInterrupted: Ctrl-C ends the session at once and the program
// with it, even one that ignores its stdin and never ends.
func TestExecInterrupted(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithCancelCause(context.Background())
	addr, wait, stderr := startExecListener(t, ctx, shell("exec sleep 60"), false)
	c := dial(t, addr)
	defer c.Close()
	c.CloseWrite()
	waitForText(t, stderr, "started")
	start := time.Now()
	cancel(&Interrupted{Signal: "interrupt"})
	var intr *Interrupted
	if err := wait(); !errors.As(err, &intr) {
		t.Errorf("listen returned %v, want the interruption", err)
	}
	if d := time.Since(start); d > execGrace {
		t.Errorf("took %s to stop: the program was not killed at once", d)
	}
}

func waitForText(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(execGuard)
	for {
		b.mu.Lock()
		ok := strings.Contains(b.String(), s)
		b.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw %q", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestExecConnect: on connect, the program's output is sent and what the
// server sends is its input (tr turns it into capitals); the program's
// environment names the connection.
func TestExecConnect(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		got []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(execGuard))
		io.WriteString(c, "hello, world\n")
		c.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(c)
		res <- result{got, err}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	var stderr syncBuffer
	x := shell(`tr a-z A-Z; echo "$SONDE_PROTO $SONDE_REMOTE_ADDR $SONDE_REMOTE_PORT"`)
	x.Stderr = writerOnly{&stderr}
	o := &Options{Server: Server{Network: "tcp", UI: ui.New(writerOnly{&stderr}, 0)},
		Target: transport.Endpoint{Host: host, Port: ln.Addr().(*net.TCPAddr).Port}, Exec: x}
	if err := Connect(context.Background(), o); err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	r := <-res
	want := fmt.Sprintf("HELLO, WORLD\nTCP %s %s\n", host, port)
	if r.err != nil || string(r.got) != want {
		t.Errorf("server got %q, %v; want %q", r.got, r.err, want)
	}
}

// TestExecLarge: 4 MiB both ways at once through cat, byte for byte (the
// program's pipes never deadlock against the socket's).
func TestExecLarge(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, wait, _ := startExecListener(t, context.Background(), &Exec{Name: "cat", Argv: []string{"cat"}}, false)
	c := dial(t, addr)
	defer c.Close()
	payload := bytes.Repeat([]byte("sonde exec payload 0123456789\n"), 4<<20/30)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Write(payload)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	wg.Wait()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("got %d bytes (%v), want %d bytes back", len(got), err, len(payload))
	}
	if err := wait(); err != nil {
		t.Errorf("listen: %v", err)
	}
}

func TestParseExec(t *testing.T) {
	x, err := ParseExec("cat -u  -")
	if err != nil || x.Name != "cat" || strings.Join(x.Argv, "|") != "cat|-u|-" {
		t.Errorf(`ParseExec("cat -u  -") = %+v, %v; want cat split at spaces`, x, err)
	}
	for _, bad := range []string{"", "  ", "no-such-program-sonde", "/nonexistent/prog"} {
		_, err := ParseExec(bad)
		var in *transport.InputError
		if !errors.As(err, &in) || in.Hint == "" {
			t.Errorf("ParseExec(%q) = %v, want a usage error with a hint", bad, err)
		}
	}
	if _, err := ShellExec(" "); err == nil {
		t.Error(`ShellExec(" "): no error`)
	}
}

// TestExecStartFailure: a program that cannot start is an error of its
// own, not a network one.
func TestExecStartFailure(t *testing.T) {
	addr, wait, _ := startExecListener(t, context.Background(),
		&Exec{Name: "/nonexistent/prog", Argv: []string{"/nonexistent/prog"}}, false)
	c := dial(t, addr)
	defer c.Close()
	err := wait()
	var se *ExecStartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "cannot run /nonexistent/prog") {
		t.Errorf("listen returned %v, want an *ExecStartError", err)
	}
	if x := transport.Explain(err); x.Usage || !strings.HasPrefix(x.Msg, "cannot run /nonexistent/prog") {
		t.Errorf("explained as %+v", x)
	}
}

// TestExecConnIsAConn: the wrapper that watches for the peer's EOF behaves
// as a net.Conn in every respect (deadlines, close, concurrency), and
// tells of EOF once the peer closes.
func TestExecConnIsAConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		ln, err := nettest.NewLocalListener("tcp")
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		d, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, nil, nil, err
		}
		a := <-accepted
		if a == nil {
			d.Close()
			return nil, nil, nil, errors.New("accept failed")
		}
		w := &execConn{Conn: d, onEOF: func() {}}
		return w, a, func() { w.Close(); a.Close() }, nil
	})

	a, b := net.Pipe()
	eof := make(chan struct{})
	var once sync.Once
	w := &execConn{Conn: a, onEOF: func() { once.Do(func() { close(eof) }) }}
	b.Close()
	if _, err := w.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
	select {
	case <-eof:
	default:
		t.Error("EOF was not reported")
	}
	w.Close()
}

// Seed corpora live in testdata/fuzz/FuzzXxx; `go test` runs them as
// regression cases, `go test -fuzz` starts from them. Neither target runs
// a program: ParseExec only looks PROG up in PATH.

// checkExecError: an error of -e or -c is an *InputError with a one-line
// message and a hint (exit status 2), like every other parse error.
func checkExecError(t *testing.T, what string, err error) {
	t.Helper()
	var in *transport.InputError
	if !errors.As(err, &in) {
		t.Fatalf("%s: error %v (%T) is not an *InputError", what, err, err)
	}
	if in.Msg == "" || in.Hint == "" || strings.ContainsAny(in.Msg+in.Hint, "\r\n") {
		t.Fatalf("%s: InputError %q (hint %q): want a one-line message and a hint", what, in.Msg, in.Hint)
	}
}

// FuzzParseExec: -e PROG ARGS. The value is split at white space and
// nothing else: Argv is strings.Fields of it, Name its first word, and
// joining Argv with spaces reads back the same. It fails, cleanly, only for
// a value with no word or a first word that is not a program in PATH; -e
// and -c agree on what is empty.
func FuzzParseExec(f *testing.F) {
	for _, s := range []string{"/bin/cat", "cat -n", "  sh\t-c  'echo hi' ", "", " \t\n", "/nonexistent/prog", "./", "no-such-program-sonde", "cat\u00a0-n", "/bin/cat\x00x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseExec(s)
		_, shellErr := ShellExec(s)
		if empty := len(strings.Fields(s)) == 0; empty != (shellErr != nil) {
			t.Fatalf("%q: -e sees %v words, -c says %v", s, len(strings.Fields(s)), shellErr)
		}
		if err != nil {
			checkExecError(t, "-e "+strconv.Quote(s), err)
			return
		}
		argv := strings.Fields(s)
		if !slices.Equal(x.Argv, argv) || x.Name != argv[0] || x.Shell != "" {
			t.Fatalf("ParseExec(%q) = %+v, want Argv %q", s, *x, argv)
		}
		again, err := ParseExec(strings.Join(x.Argv, " "))
		if err != nil || !slices.Equal(again.Argv, x.Argv) {
			t.Fatalf("ParseExec(%q) = %q, but joined back it gives %v, %v", s, x.Argv, again, err)
		}
	})
}

// FuzzShellExec: -c CMD. The command goes to the shell exactly as given;
// it is refused only when it is all white space, and is named in messages
// quoted, so on one line whatever it holds.
func FuzzShellExec(f *testing.F) {
	for _, s := range []string{"tr a-z A-Z", "echo \"$SONDE_REMOTE_ADDR\"\nexit 3", "", "  ", "\t\r\n", "\u00a0", "\x1b[2J", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		x, err := ShellExec(cmd)
		if err != nil {
			checkExecError(t, "-c "+strconv.Quote(cmd), err)
			if strings.TrimSpace(cmd) != "" {
				t.Fatalf("ShellExec(%q) refused a command that is not blank: %v", cmd, err)
			}
			return
		}
		if strings.TrimSpace(cmd) == "" {
			t.Fatalf("ShellExec(%q) accepted a blank command", cmd)
		}
		if x.Shell != cmd || len(x.Argv) != 0 {
			t.Fatalf("ShellExec(%q) = %+v: the command must go to the shell unchanged", cmd, *x)
		}
		if name, err := strconv.Unquote(x.Name); err != nil || name != cmd {
			t.Fatalf("ShellExec(%q): name %q is not the command quoted", cmd, x.Name)
		}
		if strings.ContainsFunc(x.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("ShellExec(%q): name %q holds control characters", cmd, x.Name)
		}
	})
}

// addrConn is a connection that only has addresses.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestSessionEnvEscaped: a Unix peer picks its name (an abstract one can
// hold any byte, NUL included); the program gets it escaped, as sonde's
// messages show it, and a NUL cannot keep the program from starting.
func TestSessionEnvEscaped(t *testing.T) {
	conn := addrConn{
		local:  &net.UnixAddr{Net: "unix", Name: "@sonde"},
		remote: &net.UnixAddr{Net: "unix", Name: "@x\x00\x1b]0;t\x07\u202egnp\n\x9b"},
	}
	got := sessionEnv(conn)
	want := []string{
		`SONDE_REMOTE_ADDR=@x\x00\x1b]0;t\a\u202egnp\n\x9b`, "SONDE_REMOTE_PORT=",
		"SONDE_LOCAL_ADDR=@sonde", "SONDE_LOCAL_PORT=",
		"SONDE_PROTO=UNIX",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sessionEnv = %q\nwant %q", got, want)
	}
}

// TestExecAnswerAfterPeerClose: a client that half-closes and waits for
// the answer gets it: the program's time after EOF is bounded, not zero.
func TestExecAnswerAfterPeerClose(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, wait, _ := startExecListener(t, context.Background(), shell("wc -c"), false)
	c := dial(t, addr)
	defer c.Close()
	io.WriteString(c, "12345")
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || strings.TrimSpace(string(got)) != "5" {
		t.Errorf("got %q, %v; want wc's count of 5", got, err)
	}
	if err := wait(); err != nil {
		t.Errorf("listen: %v", err)
	}
}

// TestAnswerTime: the program's time after the peer closed is -q when
// given (a negative -q sets no bound), else execAnswer.
func TestAnswerTime(t *testing.T) {
	for _, tt := range []struct {
		o       Options
		d       time.Duration
		bounded bool
	}{
		{Options{}, execAnswer, true},
		{Options{Quit: 0, QuitSet: true}, 0, true},
		{Options{Quit: 3 * time.Second, QuitSet: true}, 3 * time.Second, true},
		{Options{Quit: -1, QuitSet: true}, -1, false},
	} {
		if d, b := answerTime(&tt.o); d != tt.d || b != tt.bounded {
			t.Errorf("answerTime(-q %v, set %v) = %v, %v; want %v, %v", tt.o.Quit, tt.o.QuitSet, d, b, tt.d, tt.bounded)
		}
	}
}

// TestExecSlowAnswerAfterPeerClose: a program that keeps writing after
// the peer half-closed, for longer in all than execAnswer but never
// silent for long, is not cut short: the bound is on silence.
func TestExecSlowAnswerAfterPeerClose(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr, wait, _ := startExecListener(t, context.Background(), shell("for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.3; done"), false)
	c := dial(t, addr)
	defer c.Close()
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if want := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"; err != nil || string(got) != want {
		t.Errorf("got %q, %v; want every line, %q", got, err, want)
	}
	if err := wait(); err != nil {
		t.Errorf("listen: %v", err)
	}
}
