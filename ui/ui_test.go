package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/fatih/color"
)

// withColor sets color.NoColor, as main does from the terminal, NO_COLOR
// and --color, for the duration of one test.
func withColor(t *testing.T, enabled bool) {
	t.Helper()
	saved := color.NoColor
	color.NoColor = !enabled
	t.Cleanup(func() { color.NoColor = saved })
}

// checkOutput fails unless the messages written by write are exactly want.
func checkOutput(t *testing.T, verbosity int, write func(u *UI), want string) {
	t.Helper()
	var b bytes.Buffer
	write(New(&b, verbosity))
	if got := b.String(); got != want {
		t.Errorf("wrote %q\nwant  %q", got, want)
	}
}

// TestMessages: each kind of message is one line that starts with
// "sonde: ", keeps the caller's lower-case words as they are (no capital
// added, no period), and a hint has its own "hint:" line. With colour on,
// errors are red and bold, warnings yellow, hints cyan; the "sonde: "
// prefix and plain messages stay uncoloured.
func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		name          string
		write         func(u *UI)
		plain, colour string
	}{
		{"info", func(u *UI) { u.Infof("listening on %s", "127.0.0.1:4444") },
			"sonde: listening on 127.0.0.1:4444\n",
			"sonde: listening on 127.0.0.1:4444\n"},
		{"error", func(u *UI) { u.Errorf("cannot connect to %s: connection refused", "127.0.0.1:1") },
			"sonde: cannot connect to 127.0.0.1:1: connection refused\n",
			"sonde: \x1b[31;1mcannot connect to 127.0.0.1:1: connection refused\x1b[0;22m\n"},
		{"error then hint", func(u *UI) {
			u.Errorf("bad port %q: must be 1-65535", "70000")
			u.Hintf("e.g. sonde example.com 80")
		}, "sonde: bad port \"70000\": must be 1-65535\nsonde: hint: e.g. sonde example.com 80\n",
			"sonde: \x1b[31;1mbad port \"70000\": must be 1-65535\x1b[0;22m\nsonde: \x1b[36mhint: e.g. sonde example.com 80\x1b[0m\n"},
		{"warning", func(u *UI) { u.Warnf("-q ignored with -u") },
			"sonde: warning: -q ignored with -u\n",
			"sonde: \x1b[33mwarning: -q ignored with -u\x1b[0m\n"},
		{"detail", func(u *UI) { u.Detailf("  tried %s", "[::1]:80") },
			"sonde:   tried [::1]:80\n",
			"sonde:   tried [::1]:80\n"},
		{"trailing newline dropped", func(u *UI) { u.Infof("done\n\n") },
			"sonde: done\n",
			"sonde: done\n"},
		{"quoted control characters escaped", func(u *UI) { u.Errorf("peer said %s", "a\nb\r\x1b[2Jc\td") },
			"sonde: peer said a\\nb\\r\\x1b[2Jc\\td\n",
			"sonde: \x1b[31;1mpeer said a\\nb\\r\\x1b[2Jc\\td\x1b[0;22m\n"},
		{"peer names escaped", func(u *UI) { u.Verbosef(0, "accepted %s", "@x\x1b]0;t\x07\u202egnp.exe\x9b2J\u0085\u200b") },
			"sonde: accepted @x\\x1b]0;t\\a\\u202egnp.exe\\x9b2J\\u0085\\u200b\n",
			"sonde: accepted @x\\x1b]0;t\\a\\u202egnp.exe\\x9b2J\\u0085\\u200b\n"},
	} {
		for _, colour := range []bool{false, true} {
			name, want := tc.name, tc.plain
			if colour {
				name, want = name+" in colour", tc.colour
			}
			t.Run(name, func(t *testing.T) {
				withColor(t, colour)
				checkOutput(t, 0, tc.write, want)
			})
		}
	}
}

func TestVerbosef(t *testing.T) {
	withColor(t, false)
	write := func(u *UI) {
		u.Verbosef(1, "resolved %s", "localhost")
		u.Verbosef(2, "socket options set")
	}
	checkOutput(t, 0, write, "")
	checkOutput(t, 1, write, "sonde: resolved localhost\n")
	checkOutput(t, 2, write, "sonde: resolved localhost\nsonde: socket options set\n")
	if v := New(io.Discard, 3).Verbosity(); v != 3 {
		t.Errorf("Verbosity() = %d, want 3", v)
	}
}

// TestHold: held messages wait, in order, until Release writes them or
// Discard drops them; after either, messages are written at once.
func TestHold(t *testing.T) {
	withColor(t, false)
	var b strings.Builder
	u := New(&b, 1)
	u.Hold()
	u.Warnf("certificate not verified")
	u.Verbosef(1, "listening on 127.0.0.1:9")
	if b.Len() != 0 {
		t.Fatalf("held messages were written: %q", b.String())
	}
	u.Release()
	want := "sonde: warning: certificate not verified\nsonde: listening on 127.0.0.1:9\n"
	if b.String() != want {
		t.Fatalf("after Release: %q, want %q", b.String(), want)
	}
	u.Infof("after")
	if want += "sonde: after\n"; b.String() != want {
		t.Fatalf("a message after Release: %q, want %q", b.String(), want)
	}

	b.Reset()
	u.Hold()
	u.Warnf("moot")
	u.Discard()
	u.Errorf("--cert and --key go together")
	u.Release() // nothing held: a no-op
	if want := "sonde: --cert and --key go together\n"; b.String() != want {
		t.Fatalf("after Discard: %q, want %q", b.String(), want)
	}
}

// TestStatusIsClearedBeforeOutput: a --progress line is drawn in place,
// and whatever is written next (a message or a report through Writer)
// first erases it, so the two never share a line.
func TestStatusIsClearedBeforeOutput(t *testing.T) {
	withColor(t, false)
	checkOutput(t, 0, func(u *UI) {
		u.Status("1 KiB sent")
		u.Status("2 KiB sent")
		u.Infof("done")
		u.Infof("bye")
	}, "\rsonde: 1 KiB sent\x1b[K\rsonde: 2 KiB sent\x1b[K\r\x1b[Ksonde: done\nsonde: bye\n")
	checkOutput(t, 0, func(u *UI) {
		u.Status("3 KiB received")
		io.WriteString(u.Writer(), "> 00000000  41  |A|\n")
		io.WriteString(u.Writer(), "< 00000000  42  |B|\n")
	}, "\rsonde: 3 KiB received\x1b[K\r\x1b[K> 00000000  41  |A|\n< 00000000  42  |B|\n")
}

// TestConcurrentMessagesStayWhole: lines of concurrent clients never mix.
func TestConcurrentMessagesStayWhole(t *testing.T) {
	withColor(t, false)
	var b bytes.Buffer
	u := New(&b, 1)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				switch j % 3 {
				case 0:
					u.Infof("client %d message %d", i, j)
				case 1:
					u.Verbosef(1, "client %d message %d", i, j)
				default:
					fmt.Fprintf(u.Writer(), "sonde: client %d message %d\n", i, j)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var i, j int
		if n, err := fmt.Sscanf(l, "sonde: client %d message %d", &i, &j); n != 2 || err != nil || fmt.Sprintf("sonde: client %d message %d", i, j) != l {
			t.Fatalf("mixed line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*each)
	}
}

// TestNothingOnStdout: whatever ui is asked to write, standard output,
// which carries data, gets none of it.
func TestNothingOnStdout(t *testing.T) {
	withColor(t, true)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	var b bytes.Buffer
	u := New(&b, 2)
	u.Status("progress")
	u.Infof("info")
	u.Verbosef(2, "verbose")
	u.Warnf("warning")
	u.Errorf("error")
	u.Hintf("hint")
	u.Detailf("detail")
	io.WriteString(u.Writer(), "report\n")
	os.Stdout = saved
	w.Close()
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("stdout got %q", got)
	}
	if b.Len() == 0 {
		t.Error("nothing reached the message stream either")
	}
}

// TestStatusAroundTerminalOutput: bytes written to a terminal standard
// output erase the status line first and draw it again once a line has
// ended; while the cursor is mid-line (a prompt), it stays away.
func TestStatusAroundTerminalOutput(t *testing.T) {
	withColor(t, false)
	var screen bytes.Buffer // stdout and stderr are one terminal
	u := New(&screen, 0)
	out := u.StatusOutput(&screen)
	u.Status("1 B")
	io.WriteString(out, "world\n")
	io.WriteString(out, "login: ")
	u.Status("2 B")
	io.WriteString(out, "ok\n")
	u.EndStatus()
	io.WriteString(out, "bye\n")
	want := "\rsonde: 1 B\x1b[K" + "\r\x1b[Kworld\n\rsonde: 1 B\x1b[K" + "\r\x1b[Klogin: " + "ok\n\rsonde: 2 B\x1b[K" + "\r\x1b[K" + "bye\n"
	if got := screen.String(); got != want {
		t.Errorf("wrote %q\nwant  %q", got, want)
	}
}

// TestStatusAroundTypedLines: a line typed on the terminal was echoed
// after the status line; once it is read, it is written again alone on
// that row, and the status line drawn below.
func TestStatusAroundTypedLines(t *testing.T) {
	withColor(t, false)
	var screen bytes.Buffer
	u := New(&screen, 0)
	in := u.StatusInput(strings.NewReader("hello\n"))
	u.Status("1 B")
	if b, err := io.ReadAll(in); err != nil || string(b) != "hello\n" {
		t.Fatalf("read %q, %v", b, err)
	}
	want := "\rsonde: 1 B\x1b[K" + "\x1b[1A\rhello\x1b[K\n" + "\rsonde: 1 B\x1b[K"
	if got := screen.String(); got != want {
		t.Errorf("wrote %q\nwant  %q", got, want)
	}
	// Without a status line drawn, the echo is left alone.
	screen.Reset()
	u = New(&screen, 0)
	io.ReadAll(u.StatusInput(strings.NewReader("hi\n")))
	if screen.Len() != 0 {
		t.Errorf("wrote %q with no status line", screen.String())
	}
}

// TestPaintOverridesNoColor: colour follows color.NoColor alone, even
// when NO_COLOR was set as the colour was made (fatih/color's own rule).
func TestPaintOverridesNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	red := Paint(color.FgRed)
	withColor(t, true)
	if got := red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("colour on: %q", got)
	}
	withColor(t, false)
	if got := red("x"); got != "x" {
		t.Errorf("colour off: %q", got)
	}
}
