// Package ui owns sonde's standard error. The output policy, written down
// once:
//
//   - standard output carries data only: in connect, listen, echo and relay
//     what was received from the network; in scan, check, ping, wait and
//     trace their reports (text, or --json records), which are what the
//     user asked for; nothing in this package ever writes to it;
//   - every message goes to standard error, starts with "sonde: ", is lower
//     case and has no trailing period, and is one line;
//   - what a message quotes cannot drive the terminal: a peer's name, a
//     certificate field or a proxy's words pass through safetext.Escape
//     here, so a newline is written \n, an escape sequence \x1b[..., a
//     bidi override \u202e;
//   - a hint the user can act on goes on its own "sonde: hint: " line;
//   - colour (errors red, warnings yellow, hints cyan): --color never
//     forbids it and --color always asks for it, whatever else holds; with
//     --color auto (the default) only when NO_COLOR is unset or empty, TERM
//     is not dumb, and standard error is a terminal (main decides and sets
//     color.NoColor; Paint obeys it alone);
//   - the --progress status line on a terminal is drawn in place, and
//     cleared before anything else reaches the terminal: a message, the
//     bytes received on a terminal standard output (StatusOutput), or a
//     line typed on a terminal standard input (StatusInput); it is drawn
//     again once the cursor is back at the start of a line.
package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/fatih/color"

	"github.com/sondeproject/sonde/safetext"
)

// UI writes messages to standard error. It is safe for concurrent use:
// every message is written whole, so lines of concurrent clients never mix.
type UI struct {
	mu        sync.Mutex
	w         io.Writer
	verbosity int
	status    bool // a --progress line is drawn in place and must be cleared first

	statusLine string // the --progress line to draw ("" for none)
	midLine    bool   // the last write to a StatusOutput ended mid-line

	holding bool     // Hold: messages wait in held until Release or Discard
	held    []string // the messages held, whole lines
}

// New returns a UI writing to w (normally os.Stderr) at the given -v level.
func New(w io.Writer, verbosity int) *UI {
	return &UI{w: w, verbosity: verbosity}
}

// Verbosity is the number of -v flags given.
func (u *UI) Verbosity() int { return u.verbosity }

// Writer returns a writer to the message stream for reports in their own
// format (a hex dump on stderr): each Write lands whole, between messages.
func (u *UI) Writer() io.Writer { return lockedWriter{u} }

var (
	errorColor = Paint(color.FgRed, color.Bold)
	warnColor  = Paint(color.FgYellow)
	hintColor  = Paint(color.FgCyan)
)

// Paint returns a function that colours a string with attrs when colour
// is on, that is when color.NoColor is false. fatih/color's colours also
// obey NO_COLOR on their own, which would beat --color always: these
// follow color.NoColor alone, where main has weighed --color, NO_COLOR,
// TERM and the terminal.
func Paint(attrs ...color.Attribute) func(string) string {
	c := color.New(attrs...)
	c.EnableColor()
	return func(s string) string {
		if color.NoColor {
			return s
		}
		return c.Sprint(s)
	}
}

func (u *UI) line(paint func(string) string, label, format string, args ...any) {
	msg := safetext.Escape(strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	var b strings.Builder
	b.WriteString("sonde: ")
	if paint != nil {
		b.WriteString(paint(label + msg))
	} else {
		b.WriteString(label + msg)
	}
	b.WriteByte('\n')
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.holding {
		u.held = append(u.held, b.String())
		return
	}
	u.clearStatus()
	io.WriteString(u.w, b.String())
}

// Hold keeps every message from now on, in order, until Release or
// Discard. A command holds what it says while it is still checking its
// command line, so that a mistake found late (a bad --hex-file after the
// --insecure warning was due) is reported alone: the error and its hint.
func (u *UI) Hold() {
	u.mu.Lock()
	u.holding = true
	u.mu.Unlock()
}

// Release writes the messages held, in order, and stops holding.
func (u *UI) Release() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.held) > 0 {
		u.clearStatus()
		io.WriteString(u.w, strings.Join(u.held, ""))
	}
	u.holding, u.held = false, nil
}

// Discard drops the messages held and stops holding: what they said is
// moot once the command line has been refused.
func (u *UI) Discard() {
	u.mu.Lock()
	u.holding, u.held = false, nil
	u.mu.Unlock()
}

// Status draws line in place of the previous status line (on a terminal:
// carriage return, line, erase to end of line). The next message clears it.
// While what was written to the terminal ends mid-line (a prompt), the
// line is kept and drawn once a newline has come.
func (u *UI) Status(line string) {
	u.mu.Lock()
	u.statusLine = line
	u.drawStatus()
	u.mu.Unlock()
}

// drawStatus draws the status line, unless the cursor is mid-line.
func (u *UI) drawStatus() {
	if u.statusLine == "" || u.midLine {
		return
	}
	io.WriteString(u.w, "\rsonde: "+safetext.Escape(u.statusLine)+"\x1b[K")
	u.status = true
}

// clearStatus erases the status line if it is drawn.
func (u *UI) clearStatus() {
	if u.status {
		io.WriteString(u.w, "\r\x1b[K")
		u.status = false
	}
}

// EndStatus erases the status line for good: no write draws it again.
func (u *UI) EndStatus() {
	u.mu.Lock()
	u.clearStatus()
	u.statusLine = ""
	u.mu.Unlock()
}

// StatusOutput wraps w, a terminal that shares the screen with the
// messages (standard output), so that the bytes written to it never share
// a line with the status line: it is erased before each write and drawn
// again after one that ends a line.
func (u *UI) StatusOutput(w io.Writer) io.Writer { return statusOutput{u, w} }

type statusOutput struct {
	u *UI
	w io.Writer
}

func (s statusOutput) Write(p []byte) (int, error) {
	u := s.u
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clearStatus()
	n, err := s.w.Write(p)
	if n > 0 {
		u.midLine = p[n-1] != '\n'
	}
	u.drawStatus()
	return n, err
}

// StatusInput wraps r, a terminal in line mode whose echo shares the
// screen with the messages (standard input). The terminal echoes what is
// typed after the status line; once the line is read, it is written again
// on a line of its own, and the status line drawn below it.
func (u *UI) StatusInput(r io.Reader) io.Reader { return statusInput{u, r} }

type statusInput struct {
	u *UI
	r io.Reader
}

func (s statusInput) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n == 0 || p[n-1] != '\n' {
		return n, err
	}
	u := s.u
	u.mu.Lock()
	if u.status {
		// The echo ended the status line's row: up to it, and write it
		// again with only what was typed.
		typed := strings.TrimRight(string(p[:n]), "\r\n")
		if i := strings.LastIndexByte(typed, '\n'); i >= 0 {
			typed = typed[i+1:]
		}
		io.WriteString(u.w, "\x1b[1A\r"+safetext.Escape(typed)+"\x1b[K\n")
		u.status = false
	}
	u.midLine = false
	u.drawStatus()
	u.mu.Unlock()
	return n, err
}

type lockedWriter struct{ u *UI }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.u.mu.Lock()
	defer l.u.mu.Unlock()
	l.u.clearStatus()
	return l.u.w.Write(p)
}

// Infof prints a message the user always needs (e.g. the port that port 0
// picked).
func (u *UI) Infof(format string, args ...any) { u.line(nil, "", format, args...) }

// Verbosef prints a progress message when at least level -v flags were given.
func (u *UI) Verbosef(level int, format string, args ...any) {
	if u.verbosity >= level {
		u.line(nil, "", format, args...)
	}
}

// Warnf prints a warning.
func (u *UI) Warnf(format string, args ...any) { u.line(warnColor, "warning: ", format, args...) }

// Errorf prints an error line.
func (u *UI) Errorf(format string, args ...any) { u.line(errorColor, "", format, args...) }

// Hintf prints a hint line.
func (u *UI) Hintf(format string, args ...any) { u.line(hintColor, "hint: ", format, args...) }

// Detailf prints an uncoloured continuation of an error (e.g. each address
// that was tried).
func (u *UI) Detailf(format string, args ...any) { u.line(nil, "", format, args...) }
