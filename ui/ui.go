// Package ui owns sonde's standard error. The output policy, written down
// once:
//
//   - standard output carries only data received from the network; nothing
//     in this package ever writes to it;
//   - every message goes to standard error, starts with "sonde: ", is lower
//     case and has no trailing period;
//   - a hint the user can act on goes on its own "sonde: hint: " line;
//   - colour (errors red, warnings yellow, hints cyan) only when standard
//     error is a terminal, NO_COLOR is unset and --color is auto, or when
//     --color always asks for it (main decides and sets color.NoColor).
package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/fatih/color"
)

// UI writes messages to standard error. It is safe for concurrent use:
// every message is written whole, so lines of concurrent clients never mix.
type UI struct {
	mu        sync.Mutex
	w         io.Writer
	verbosity int
}

// New returns a UI writing to w (normally os.Stderr) at the given -v level.
func New(w io.Writer, verbosity int) *UI {
	return &UI{w: w, verbosity: verbosity}
}

// Verbosity is the number of -v flags given.
func (u *UI) Verbosity() int { return u.verbosity }

// Writer is the stream messages go to, for modes that write reports such
// as hex dumps in their own format.
func (u *UI) Writer() io.Writer { return u.w }

var (
	errorColor = color.New(color.FgRed, color.Bold)
	warnColor  = color.New(color.FgYellow)
	hintColor  = color.New(color.FgCyan)
)

func (u *UI) line(c *color.Color, label, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.TrimRight(msg, "\n")
	var b strings.Builder
	for _, l := range strings.Split(msg, "\n") {
		b.WriteString("sonde: ")
		if c != nil {
			b.WriteString(c.Sprint(label + l))
		} else {
			b.WriteString(label + l)
		}
		b.WriteByte('\n')
	}
	u.mu.Lock()
	io.WriteString(u.w, b.String())
	u.mu.Unlock()
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
