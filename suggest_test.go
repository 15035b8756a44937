package main

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"echo", "echo", 0},
		{"ehco", "echo", 1}, // a swap is one edit
		{"scna", "scan", 1},
		{"scn", "scan", 1},
		{"scans", "scan", 1},
		{"sacn", "scan", 1},
		{"ping", "pong", 1},
		{"verbos", "verbose", 1},
		{"relay", "reply", 2},
		{"", "wait", 4},
		{"connect", "listen", 6},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

// Typos get "did you mean", on stderr as a hint, exit 2, nothing on
// stdout; a word near nothing keeps the pointer to --help.
func TestTypoSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"scna", "127.0.0.1", "80"}, "sonde: hint: did you mean `sonde scan`?"},
		{[]string{"-n", "ehco", "9000"}, "sonde: hint: did you mean `sonde echo`?"},
		{[]string{"-n", "-l", "relya", "9000"}, "sonde: hint: did you mean `sonde relay`?"},
		{[]string{"--verbos", "127.0.0.1", "1"}, "sonde: hint: did you mean --verbose?"},
		{[]string{"--hexfile", "x", "127.0.0.1", "1"}, "sonde: hint: did you mean --hex-file?"},
		{[]string{"scan", "--jsno", "127.0.0.1", "1"}, "sonde: hint: did you mean --json?"},
		{[]string{"ping", "--cuont", "1", "127.0.0.1", "1"}, "sonde: hint: did you mean --count?"},
		{[]string{"--nope", "127.0.0.1", "1"}, "sonde: hint: sonde --help lists every flag"},
		{[]string{"scan", "--zzzzzz", "127.0.0.1", "1"}, "sonde: hint: sonde scan --help lists its flags"},
		{[]string{"help", "80"}, "sonde: hint: sonde help lists the commands; to reach a host named help: sonde connect help PORT"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.hint+"\n") {
			t.Errorf("sonde %q: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", tc.args, code, stdout.String(), stderr.String(), tc.hint)
		}
	}
}

// A word that is no near miss of a command, or a command itself, gets no
// "did you mean": "sonde scan" spelt right is never told to be scan.
func TestNoCommandSuggestion(t *testing.T) {
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	for _, w := range []string{"scan", "echo", "example.com", "127.0.0.1", "h", "ec", "localhost", "scanner"} {
		if s := suggestCommand(app.Commands, w); s != "" {
			t.Errorf("suggestCommand(%q) = %q, want none", w, s)
		}
	}
}

// A name that does not resolve and is one edit from a command gets the
// hint after the resolver's own.
func TestResolveErrorGetsCommandHint(t *testing.T) {
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	notFound := &transport.ResolveError{Host: "ehco", Err: &net.DNSError{Name: "ehco", Err: "no such host", IsNotFound: true}}
	var b bytes.Buffer
	code := report(ui.New(&b, 0), withCommandHint(notFound, app.Commands, "ehco"))
	want := "sonde: cannot resolve ehco: no such host\n" +
		"sonde: hint: check the spelling; the resolver answered that the name does not exist\n" +
		"sonde: hint: did you mean `sonde echo`?\n"
	if code != exitFailure || b.String() != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and:\n%s", code, b.String(), want)
	}
	// A refused connection is not a typo of a command.
	refused := &transport.DialError{}
	if err := withCommandHint(refused, app.Commands, "ehco"); err != refused {
		t.Errorf("a dial error got a command hint: %v", err)
	}
}

// sonde help and sonde help COMMAND print help on stdout and exit 0.
func TestHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "sonde [flags] HOST PORT"},
		{[]string{"help", "scan"}, "sonde scan [flags] HOST PORTS"},
		{[]string{"help", "listen"}, "sonde listen [flags] [HOST] PORT"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != exitOK || stderr.Len() != 0 {
			t.Errorf("sonde %q: exit %d, stderr:\n%s", tc.args, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("sonde %q: stdout lacks %q:\n%s", tc.args, tc.want, stdout.String())
		}
	}
}
