//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// terminal is a pseudo-terminal for sonde's standard streams, and what
// reached its screen.
type terminal struct {
	tty *os.File // sonde's end
	ptm *os.File // the terminal's end
	out proctest.Buffer
}

func newTerminal(t *testing.T) *terminal {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	term := &terminal{tty: tty, ptm: ptm}
	go io.Copy(&term.out, ptm) // ends when the cleanup closes ptm
	t.Cleanup(func() { ptm.Close(); tty.Close() })
	return term
}

// output waits until the terminal has received last, and returns all it
// received. (Closing sonde's end would not do: a goroutine of the session
// may still be reading it.)
func (term *terminal) output(t *testing.T, last string) string {
	t.Helper()
	term.waitFor(t, last)
	return term.out.String()
}

// waitFor waits until the terminal has received s.
func (term *terminal) waitFor(t *testing.T, s string) {
	t.Helper()
	proctest.PollUntil(t, fmt.Sprintf("the terminal shows %q", s), nil, func() bool {
		return strings.Contains(term.out.String(), s)
	})
}

// screen renders what a terminal shows for out: carriage return, line
// feed, cursor up (ESC [ A), erase to end of line (ESC [ K); colours
// (ESC [ ... m) are dropped. Trailing blanks and empty last lines go.
func screen(out string) []string {
	var rows [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(rows) <= row {
			rows = append(rows, nil)
		}
		for len(rows[row]) < col {
			rows[row] = append(rows[row], ' ')
		}
		if col < len(rows[row]) {
			rows[row][col] = r
		} else {
			rows[row] = append(rows[row], r)
		}
		col++
	}
	in := []rune(out)
	for i := 0; i < len(in); i++ {
		switch r := in[i]; {
		case r == '\r':
			col = 0
		case r == '\n':
			row++
		case r == 0x1b && i+1 < len(in) && in[i+1] == '[':
			j := i + 2
			for j < len(in) && (in[j] >= '0' && in[j] <= '9' || in[j] == ';') {
				j++
			}
			if j == len(in) {
				i = j
				break
			}
			switch in[j] {
			case 'A':
				row = max(row-1, 0)
			case 'K':
				if row < len(rows) && col < len(rows[row]) {
					rows[row] = rows[row][:col]
				}
			}
			i = j
		default:
			put(r)
		}
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func TestScreen(t *testing.T) {
	got := screen("sonde: 1 KiB\x1b[K\r\x1b[Kabc\r\n\rsonde: 2\x1b[Kxy\r\n\x1b[1A\rxy\x1b[K\r\n\x1b[31;1mred\x1b[0m\r\n")
	want := []string{"abc", "xy", "red"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("screen = %q, want %q", got, want)
	}
}

// Colour obeys --color first, then NO_COLOR, then TERM=dumb, then whether
// stderr is a terminal. The error comes from the action, after --color
// is read, and before any socket is opened.
func TestColorPolicy(t *testing.T) {
	const red = "\x1b[31;1m"
	for _, tc := range []struct {
		name, noColor, termName string
		args                    []string
		tty, colour             bool
	}{
		{"auto on a terminal", "", "xterm", nil, true, true},
		{"auto in a pipe", "", "xterm", nil, false, false},
		{"NO_COLOR on a terminal", "1", "xterm", nil, true, false},
		{"TERM=dumb on a terminal", "", "dumb", nil, true, false},
		{"always beats NO_COLOR", "1", "xterm", []string{"--color", "always"}, false, true},
		{"always beats TERM=dumb", "", "dumb", []string{"--color", "always"}, true, true},
		{"never beats a terminal", "", "xterm", []string{"--color", "never"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", tc.termName)
			args := append(tc.args, "-4", "-6", "127.0.0.1", "1")
			var stderr string
			if tc.tty {
				term := newTerminal(t)
				if code := run(args, strings.NewReader(""), io.Discard, term.tty); code != exitUsage {
					t.Fatalf("exit %d, want 2", code)
				}
				stderr = term.output(t, "cannot be combined")
			} else {
				var b bytes.Buffer
				if code := run(args, strings.NewReader(""), io.Discard, &b); code != exitUsage {
					t.Fatalf("exit %d, want 2", code)
				}
				stderr = b.String()
			}
			if !strings.Contains(stderr, "-4 and -6 cannot be combined") {
				t.Fatalf("stderr %q lacks the error", stderr)
			}
			if got := strings.Contains(stderr, red); got != tc.colour {
				t.Errorf("coloured %v, want %v: %q", got, tc.colour, stderr)
			}
		})
	}
}

// On a terminal, the --progress status line never shares a row with what
// is typed or received: the screen ends up holding the typed line, the
// received line and the summary, each alone on its row.
func TestProgressOnTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	ln := porttest.Listen(t)
	term := newTerminal(t)
	peerErr := porttest.ServeOne(ln, func(c net.Conn) error {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && line != "hello\n" {
			err = io.ErrUnexpectedEOF
		}
		if err == nil {
			_, err = io.WriteString(c, "world\n")
		}
		return err
	})
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"--progress", "127.0.0.1", portOf(ln)}, term.tty, term.tty, term.tty)
	}()
	term.waitFor(t, "\rsonde: sent 0 B (0 B/s), received 0 B (0 B/s)\x1b[K") // the status line is up
	if _, err := io.WriteString(term.ptm, "hello\n"); err != nil {
		t.Fatal(err)
	}
	if err := <-peerErr; err != nil {
		t.Fatalf("peer: %v", err)
	}
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sonde did not end when the peer closed")
	}
	out := term.output(t, " received)\r\n")
	got := screen(out)
	if len(got) != 3 || got[0] != "hello" || got[1] != "world" || !strings.HasPrefix(got[2], "sonde: sent 6 B, received 6 B in ") {
		t.Errorf("screen:\n%s\nwant hello, world and the summary, each alone; the terminal got %q", strings.Join(got, "\n"), out)
	}
}

func portOf(ln net.Listener) string {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
