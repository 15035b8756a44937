package modes

// A terminal on stdin is shared with the shell's job control: a
// background job that reads its terminal is stopped (SIGTTIN, "Stopped
// (tty input)"), and with it everything it was receiving. sonde reads
// such a stdin only while its process group is the terminal's foreground
// group, as nc and ncat in effect do.

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/sondeproject/sonde/ui"
)

// foregroundPoll is how often a background sonde looks whether the
// terminal was given back, and how long a foreground one waits for input
// before it looks again: short enough to notice fg at once for a person,
// long enough to cost nothing.
const foregroundPoll = 250 * time.Millisecond

// stdinReader is what a session reads as stdin: o.Stdin itself, or, when
// that is sonde's controlling terminal, a reader that reads it only in
// the foreground. ctx ends its waiting.
func stdinReader(ctx context.Context, o *Options) io.Reader {
	f, ok := o.Stdin.(*os.File)
	if !ok || !o.Interactive {
		return o.Stdin
	}
	if _, controlling := inForeground(f); !controlling {
		return o.Stdin
	}
	return &foregroundStdin{f: f, ctx: ctx, ui: o.UI}
}

// foregroundStdin reads a controlling terminal only while sonde is in the
// foreground, and never blocks in read(2) on it: a read blocked when the
// job is stopped and sent to the background (Ctrl-Z, bg) would stop it
// again when it resumes.
type foregroundStdin struct {
	f       *os.File
	ctx     context.Context
	ui      *ui.UI
	waiting bool // in the background, and said so
}

func (r *foregroundStdin) Read(p []byte) (int, error) {
	for {
		if fg, _ := inForeground(r.f); !fg {
			if !r.waiting {
				r.waiting = true
				r.ui.Verbosef(1, "stdin is the terminal of a background job: not reading it until it is brought to the foreground")
			}
			if !sleepCtx(r.ctx, foregroundPoll) {
				return 0, context.Cause(r.ctx)
			}
			continue
		}
		if r.waiting {
			r.waiting = false
			r.ui.Verbosef(1, "in the foreground: reading the terminal")
		}
		readable, err := waitReadable(r.f, foregroundPoll)
		switch {
		case err != nil:
			return r.f.Read(p) // cannot wait: read as any program does
		case r.ctx.Err() != nil:
			return 0, context.Cause(r.ctx)
		case !readable:
			continue
		}
		if fg, _ := inForeground(r.f); fg { // still: the input is ours
			return r.f.Read(p)
		}
	}
}
