// Package ui owns sonde's standard error. The output policy, written down
// once:
//
//   - standard output carries data only: in connect, listen, echo and relay
//     what was received from the network; in scan the report (its table
//     and summary) and in check its rows and summary, which is what the
//     user asked for; in ping and wait their --json records; nothing in
//     this package ever writes to it;
//   - every message goes to standard error, starts with "sonde: ", is lower
//     case and has no trailing period, and is one line (a newline it quotes
//     is written \n);
//   - a hint the user can act on goes on its own "sonde: hint: " line;
//   - colour (errors red, warnings yellow, hints cyan) only when standard
//     error is a terminal, NO_COLOR is unset and --color is auto, or when
//     --color always asks for it (main decides and sets color.NoColor).
package ui

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/fatih/color"
)

// UI writes messages to standard error. It is safe for concurrent use:
// every message is written whole, so lines of concurrent clients never mix.
type UI struct {
	mu        sync.Mutex
	w         io.Writer
	verbosity int
	status    bool // a --progress line is drawn in place and must be cleared first
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
	errorColor = color.New(color.FgRed, color.Bold)
	warnColor  = color.New(color.FgYellow)
	hintColor  = color.New(color.FgCyan)
)

func (u *UI) line(c *color.Color, label, format string, args ...any) {
	msg := oneLine(strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	var b strings.Builder
	b.WriteString("sonde: ")
	if c != nil {
		b.WriteString(c.Sprint(label + msg))
	} else {
		b.WriteString(label + msg)
	}
	b.WriteByte('\n')
	u.mu.Lock()
	if u.status {
		io.WriteString(u.w, "\r\x1b[K")
		u.status = false
	}
	io.WriteString(u.w, b.String())
	u.mu.Unlock()
}

// oneLine keeps a message on one line: the control characters in it,
// which can only come from what it quotes (a newline in a socket path,
// a peer's reply), are written as Go escapes (\n, \r, \x1b), not sent to
// the terminal.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Status draws line in place of the previous status line (on a terminal:
// carriage return, line, erase to end of line). The next message clears it.
func (u *UI) Status(line string) {
	u.mu.Lock()
	io.WriteString(u.w, "\rsonde: "+line+"\x1b[K")
	u.status = true
	u.mu.Unlock()
}

type lockedWriter struct{ u *UI }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.u.mu.Lock()
	defer l.u.mu.Unlock()
	if l.u.status {
		io.WriteString(l.u.w, "\r\x1b[K")
		l.u.status = false
	}
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
