package modes

// The accept loop of the servers that take many clients (-lk, echo,
// relay): what they do when accepting fails for a while.

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/ui"
)

// Out of descriptors, a server pauses accepting this long at first,
// doubling while it lasts, up to acceptPauseMax: long enough not to spin,
// short enough to take clients again soon after descriptors are freed.
// A spell that starts within warnQuiet of the last warning is not
// warned about again: its failed accepts are counted in the next report.
const (
	acceptPauseMin = 50 * time.Millisecond
	acceptPauseMax = time.Second
)

// warnQuiet is how long a warning that repeats is held back after it was
// shown (see ui.Throttle).
const warnQuiet = 10 * time.Second

// acceptor accepts the clients of a server that serves many. Anyone who
// can connect can use up the process's descriptors (EMFILE) or the
// system's (ENFILE): then the server pauses and goes on, rather than
// stop, and says so once in a while with a count, not once per failed
// accept.
type acceptor struct {
	ln                 net.Listener
	ui                 *ui.UI
	pauseMin, pauseMax time.Duration // the first pause, doubling up to the last
	warnings           ui.Throttle   // no second warning sooner than warnQuiet

	pause  time.Duration // the next pause; 0 while accepting works
	warned bool          // the current spell was warned about
	hinted bool
	failed int64  // accepts failed and not yet counted in a report
	reason string // why, e.g. "too many open files"
}

func newAcceptor(ln net.Listener, u *ui.UI) *acceptor {
	return &acceptor{ln: ln, ui: u, pauseMin: acceptPauseMin, pauseMax: acceptPauseMax, warnings: ui.Throttle{Interval: warnQuiet}}
}

// accept returns the next client. A timeout is retried, and so is running
// out of descriptors, after a pause; other errors are returned, as is the
// error of an accept that ctx's end interrupted (the caller reports the
// cause).
func (a *acceptor) accept(ctx context.Context) (net.Conn, error) {
	for {
		conn, err := a.ln.Accept()
		switch {
		case err == nil:
			a.spellOver()
			return conn, nil
		case ctx.Err() != nil:
			a.stopped()
			return nil, err
		case isTimeoutErr(err):
			continue
		case !isTooManyFiles(err):
			a.stopped()
			return nil, err
		}
		a.outOfFiles(err)
		if !sleepCtx(ctx, a.pause) {
			a.stopped()
			return nil, err
		}
		a.pause = min(2*a.pause, a.pauseMax)
	}
}

// outOfFiles counts a failed accept. The first of a spell is a warning,
// unless one was given lately.
func (a *acceptor) outOfFiles(err error) {
	a.failed++
	if a.pause != 0 {
		return
	}
	a.pause = a.pauseMin
	a.reason = err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		a.reason = errno.Error()
	}
	// The failed accepts are counted here, not the warnings held back.
	if a.warned, _ = a.warnings.Let("out of files"); !a.warned {
		return
	}
	if earlier := a.failed - 1; earlier > 0 {
		a.ui.Warnf("cannot accept clients: %s; pausing, then trying again (%s failed since the last report)",
			a.reason, plural(earlier, "accept"))
		a.failed = 1
	} else {
		a.ui.Warnf("cannot accept clients: %s; pausing, then trying again", a.reason)
	}
	if !a.hinted {
		a.hinted = true
		a.ui.Hintf("each client holds a file descriptor: raise the limit (ulimit -n) or set --max-conns")
	}
}

// spellOver ends a spell without descriptors: a spell that was warned
// about ends with the count of the accepts that failed since.
func (a *acceptor) spellOver() {
	if a.pause == 0 {
		return
	}
	a.pause = 0
	if a.warned {
		a.ui.Infof("accepting clients again (%s failed: %s)", plural(a.failed, "accept"), a.reason)
		a.failed = 0
	}
}

// stopped reports the failed accepts not yet counted, as the server
// stops accepting.
func (a *acceptor) stopped() {
	if a.failed > 0 {
		a.ui.Infof("%s failed: %s", plural(a.failed, "accept"), a.reason)
	}
	a.pause, a.failed = 0, 0
}
