package modes

// Exec (-e PROG, -c CMD): a program takes the place of sonde's stdin and
// stdout for a session. The session engine is the usual one (runStream),
// so -v, --hex, --progress, -w, -q and TLS work as without a program;
// only the ends change:
//
//   - the program's output is what sonde sends; when it closes its
//     stdout, sonde half-closes the connection (as at stdin EOF);
//   - what the peer sends is the program's input; when the peer closes,
//     the program's stdin is closed and it sees EOF; sonde keeps sending
//     what it writes (the answer of a program such as wc) until it
//     closes its stdout, or until it has written nothing for execAnswer
//     (-q overrides it, a negative -q lifts the bound): then the session
//     is over, as ncat ends the program when the connection closes, so
//     that a program that never ends (sleep, a server) does not keep
//     sonde, or a place among -lk's clients, once its peer has gone;
//   - a reset, or a write to the peer that fails, ends the session at
//     once, and so does -w;
//   - when the program has exited and everything it wrote is sent, the
//     session ends once the peer closes too, or after execLinger (-q
//     overrides it); what the peer sends then is dropped, as a program
//     that no longer reads would have dropped it;
//   - the program runs in a session and process group of its own, and
//     when the session is over the whole group ends: SIGTERM, then
//     SIGKILL after execGrace (exec_other.go; a watchdog covers a killed
//     sonde, exec_watchdog_other.go). A program still running when its
//     session ends keeps execGrace more to end on its own, unless it
//     already had execAnswer after its input ended.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sondeproject/sonde/safetext"
	"github.com/sondeproject/sonde/transport"
)

// Exec is the program of -e or -c.
type Exec struct {
	// Name is how messages call the program: PROG for -e, the quoted
	// command for -c.
	Name string
	// Argv is -e's program and arguments; for -c it is empty and Shell
	// holds the command.
	Argv  []string
	Shell string
	// Stderr is where the program's stderr goes: sonde's own.
	Stderr io.Writer
}

// ParseExec reads -e PROG: the value is split at white space (no shell,
// no quoting, as ncat -e) and PROG is looked up in PATH now, so a typo is
// reported before any connection is made.
func ParseExec(s string) (*Exec, error) {
	argv := strings.Fields(s)
	if len(argv) == 0 {
		return nil, &transport.InputError{Msg: "-e needs a program to run", Hint: "e.g. -e /bin/cat, or -c 'CMD' for a shell command"}
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, &transport.InputError{
			Msg:  fmt.Sprintf("cannot run -e %s: %s", argv[0], lookPathReason(err)),
			Hint: "give a path, or a program in PATH; -e does not use a shell (-c does)",
		}
	}
	return &Exec{Name: argv[0], Argv: argv}, nil
}

// ShellExec is -c CMD: the command runs through the system's shell
// (/bin/sh -c, or cmd /c on Windows).
func ShellExec(cmd string) (*Exec, error) {
	if strings.TrimSpace(cmd) == "" {
		return nil, &transport.InputError{Msg: "-c needs a command to run", Hint: "e.g. -c 'tr a-z A-Z'"}
	}
	return &Exec{Name: strconv.Quote(cmd), Shell: cmd}, nil
}

func lookPathReason(err error) string {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "not found"
	case errors.Is(err, os.ErrPermission):
		return "not executable"
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	}
	var e *exec.Error
	if errors.As(err, &e) {
		return e.Err.Error()
	}
	return err.Error()
}

func (x *Exec) command() *exec.Cmd {
	if x.Shell != "" {
		return shellCommand(x.Shell)
	}
	return exec.Command(x.Argv[0], x.Argv[1:]...)
}

// ProgramError reports a program (-e, -c) that did not end well. sonde
// then exits 1.
type ProgramError struct {
	Name   string
	Status int    // exit status, when it exited
	Signal string // the signal that killed it, when one did: "signal 9 (killed)"
}

func (e *ProgramError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("%s was killed by %s", e.Name, e.Signal)
	}
	return fmt.Sprintf("%s exited with status %d", e.Name, e.Status)
}

// ExecStartError reports a program that could not be started. It does not
// unwrap: a missing program is not a missing socket file.
type ExecStartError struct {
	Name string
	Err  error
}

func (e *ExecStartError) Error() string {
	return fmt.Sprintf("cannot run %s: %s", e.Name, lookPathReason(e.Err))
}

const (
	// execLinger bounds how long a session outlives its program, waiting
	// for the peer to close after sonde half-closed (-q overrides it).
	execLinger = time.Second
	// execGrace is how long a program's group has, once its session is
	// over (stdin and stdout closed, SIGTERM sent), before SIGKILL.
	execGrace = 2 * time.Second
	// execAnswer bounds how long a program may stay silent once the
	// peer has closed (-q overrides it): the answer to a request ended
	// by a half-close comes at once.
	execAnswer = execGrace
)

var (
	// errProgramDone ends a session whose program has exited.
	errProgramDone = errors.New("program done")
	// errPeerGone ends a session whose peer has closed and whose
	// program, still running, wrote nothing for execAnswer (or -q).
	errPeerGone = errors.New("peer gone")
)

// runExec starts o.Exec with pipes for stdin and stdout and runs the
// session between them and conn (see the top of this file). The error is
// the session's if it failed, else a *ProgramError if the program did
// not exit 0.
func runExec(ctx context.Context, conn net.Conn, o *Options, hex *transport.HexStream) (sent, received int64, err error) {
	x := o.Exec
	cmd := x.command()
	cmd.Env = append(os.Environ(), sessionEnv(conn)...)
	cmd.Stderr = x.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	// Pipes of our own, not cmd.StdinPipe/StdoutPipe: cmd.Wait closes
	// those as soon as the process exits, which could drop output not
	// read yet.
	inR, inW, err := os.Pipe()
	if err != nil {
		return 0, 0, &ExecStartError{Name: x.Name, Err: err}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return 0, 0, &ExecStartError{Name: x.Name, Err: err}
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	group, err := startProgram(cmd)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return 0, 0, &ExecStartError{Name: x.Name, Err: err}
	}
	defer group.release()
	if err := group.watchErr; err != nil {
		o.UI.Warnf("%s may outlive sonde if sonde is killed: %v", x.Name, err)
	}
	o.UI.Verbosef(1, "started %s (pid %d)", x.Name, cmd.Process.Pid)
	exited := make(chan struct{})
	var state *os.ProcessState
	go func() {
		cmd.Wait()
		state = cmd.ProcessState
		close(exited)
	}()

	in := &programInput{w: inW, done: make(chan struct{})}
	out := &programOutput{r: outR, eof: make(chan struct{})}
	so := *o
	so.Stdin, so.Stdout = out, in
	so.NoStdin, so.SendOnly, so.Interactive = false, false, false

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The program is done once it has exited and all it wrote has been
	// read (and so sent): then wait a little for the peer (-q, when
	// given, says how long to wait after the program's output ends).
	if !o.QuitSet {
		go endAfter(sctx, cancel, errProgramDone, execLinger, exited, out.eof)
	}
	if answer, bounded := answerTime(o); bounded {
		go endWhenQuiet(sctx, cancel, in.done, &out.active, answer)
	}

	sent, received, err = runStream(sctx, &execConn{Conn: conn, onEOF: in.Close}, &so, hex)
	answered := errors.Is(err, errPeerGone) // the program had its time after EOF
	if answered || errors.Is(err, errProgramDone) {
		err = nil
	}
	in.Close()
	outR.Close()

	endProgram(ctx, group, exited, !answered)
	switch {
	case group.endedBySonde(state):
		o.UI.Verbosef(1, "ended %s (%s): the session was over", x.Name, signalName(state))
	case state.ExitCode() == 0:
		o.UI.Verbosef(1, "%s exited with status 0", x.Name)
	case err == nil:
		err = programError(x.Name, state)
	default:
		o.UI.Warnf("%s", programError(x.Name, state))
	}
	return sent, received, err
}

// endProgram ends what is left of a program once its session is over:
// the program itself if it still runs, and whatever it started (a
// command put in the background, a daemon). Its standard input is closed
// by then, so a program that ends at end of input (cat, most scripts) is
// given execGrace to do so and keeps its own exit status. Then its whole
// process group gets SIGTERM, and SIGKILL if anything of it remains after
// another execGrace; all at once when ctx is done (sonde is interrupted).
// The first execGrace is skipped when ownTime is false: the program had
// its time already, after the peer closed.
// It returns once the program has been waited for and its group is gone.
func endProgram(ctx context.Context, g *programGroup, exited <-chan struct{}, ownTime bool) {
	if ownTime && ctx.Err() == nil {
		own := time.NewTimer(execGrace)
		select {
		case <-exited:
		case <-own.C:
		case <-ctx.Done():
		}
		own.Stop()
	}
	if ctx.Err() == nil && g.signal(groupTerminate) && g.gone(ctx, exited) {
		return
	}
	if !isClosed(exited) || g.signal(0) {
		g.signal(groupKill)
	}
	<-exited
}

// gone waits, for execGrace at most, until the program has exited and
// nothing of its group is left.
func (g *programGroup) gone(ctx context.Context, exited <-chan struct{}) bool {
	grace := time.NewTimer(execGrace)
	defer grace.Stop()
	// The other members of the group are not sonde's children: nothing
	// says when they are gone, so look now and then.
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for !isClosed(exited) || g.signal(0) {
		select {
		case <-exited:
		case <-poll.C:
		case <-grace.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func programError(name string, st *os.ProcessState) *ProgramError {
	if code := st.ExitCode(); code >= 0 {
		return &ProgramError{Name: name, Status: code}
	}
	return &ProgramError{Name: name, Signal: signalName(st)}
}

// sessionEnv tells the program about its connection, as ncat's
// NCAT_REMOTE_ADDR and friends do. The values are escaped: a Unix peer
// picks its name, and a script that echoes $SONDE_REMOTE_ADDR to a
// terminal (or a NUL that would stop the program from starting) must not
// get it raw.
func sessionEnv(conn net.Conn) []string {
	var env []string
	add := func(prefix string, a net.Addr) {
		if a == nil {
			return
		}
		host, port, err := net.SplitHostPort(a.String())
		if err != nil {
			host, port = a.String(), ""
		}
		env = append(env, "SONDE_"+prefix+"_ADDR="+safetext.Escape(host), "SONDE_"+prefix+"_PORT="+safetext.Escape(port))
	}
	add("REMOTE", conn.RemoteAddr())
	add("LOCAL", conn.LocalAddr())
	proto := "TCP"
	if a := conn.LocalAddr(); a != nil && strings.HasPrefix(a.Network(), "unix") {
		proto = "UNIX"
	}
	return append(env, "SONDE_PROTO="+proto)
}

// endAfter ends the session, with cause, d after every one of events
// has happened, unless it ends first.
func endAfter(ctx context.Context, cancel context.CancelCauseFunc, cause error, d time.Duration, events ...<-chan struct{}) {
	for _, ch := range events {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		cancel(cause)
	case <-ctx.Done():
	}
}

// endWhenQuiet ends the session once the peer has closed (peerClosed)
// and the program has written nothing for d since: it had its time to
// answer. A program that keeps writing to a peer that keeps reading (a
// file sent to a client that half-closed at once) is not cut short.
func endWhenQuiet(ctx context.Context, cancel context.CancelCauseFunc, peerClosed <-chan struct{}, written *activity, d time.Duration) {
	select {
	case <-peerClosed:
	case <-ctx.Done():
		return
	}
	if d == 0 {
		cancel(errPeerGone) // -q 0
		return
	}
	written.touch()
	idle := written.idleTimer(d)
	defer idle.stop()
	for {
		select {
		case <-idle.C:
			if idle.expired() {
				cancel(errPeerGone)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// answerTime is how long a program may stay silent once the peer has
// closed: -q when given, execAnswer otherwise; a negative -q sets no
// bound.
func answerTime(o *Options) (d time.Duration, bounded bool) {
	if !o.QuitSet {
		return execAnswer, true
	}
	return o.Quit, o.Quit >= 0
}

// programInput is the program's stdin, written with what the peer sends.
// Once the program stops reading (it closed its stdin or exited), the
// rest is dropped: that is not the session's failure. done is closed
// with it.
type programInput struct {
	w      *os.File
	gone   atomic.Bool
	closed sync.Once
	done   chan struct{}
}

func (p *programInput) Write(b []byte) (int, error) {
	if !p.gone.Load() {
		if _, err := p.w.Write(b); err != nil {
			p.gone.Store(true)
		}
	}
	return len(b), nil
}

// Close gives the program EOF on its stdin.
func (p *programInput) Close() {
	p.closed.Do(func() {
		p.w.Close()
		close(p.done)
	})
}

// programOutput is the program's stdout, read to be sent; eof is closed
// when it ends, and active says when it last gave something.
type programOutput struct {
	r      *os.File
	eof    chan struct{}
	once   sync.Once
	active activity
}

func (p *programOutput) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.active.touch()
	}
	if err != nil {
		p.once.Do(func() { close(p.eof) })
	}
	return n, err
}

// execConn tells when the peer has closed (so that the program's stdin
// can be closed), and keeps the half-close of the connection it wraps.
type execConn struct {
	net.Conn
	onEOF func()
}

func (c *execConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.onEOF()
	}
	return n, err
}

func (c *execConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serveExec is -lk with a program: each client gets a program of its own.
// A program that fails is reported, and the listener goes on.
func (h *hub) serveExec(ctx context.Context, c *keepClient) error {
	sent, received, err := runExec(ctx, c.conn, h.o, c.hex)
	c.sent.Store(sent)
	c.received.Store(received)
	var pe *ProgramError
	if errors.As(err, &pe) {
		h.o.UI.Warnf("client %d: %s", c.id, pe)
		return nil
	}
	return err
}
