package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestNormalizeArgs(t *testing.T) {
	cmds := []string{"connect", "listen"}
	tests := []struct {
		in, want string
	}{
		{"host 80", "-- host 80"},
		{"host 80 -v", "-v -- host 80"},
		{"-lvnp 4444", "-l -v -n -p 4444"},
		{"-lvnp4444", "-l -v -n -p 4444"},
		{"-p4444 -l", "-p 4444 -l"},
		{"-w5 host 80", "-w 5 -- host 80"},
		{"-vv host 80", "-v -v -- host 80"},
		{"-ulk 9000", "-u -l -k -- 9000"},
		{"-l 4444 -k", "-l -k -- 4444"},
		{"-q -1 host 80", "-q -1 -- host 80"},
		{"--color never host 80", "--color never -- host 80"},
		{"--color=never host 80", "--color=never -- host 80"},
		{"host 80 --hex-file f", "--hex-file f -- host 80"},
		{"host 80 --bogus f", "--bogus -- host 80 f"}, // unknown flags pass through
		{"connect echo 7", "connect -- echo 7"},
		{"-v connect echo 7", "connect -v -- echo 7"},
		{"listen -p 80", "listen -p 80"},
		{"host -- -80", "-- host -80"},
		{"-4 ::1 80", "-4 -- ::1 80"},
		{"-w", "-w"},
		{"-é", "-é"},
		// help whatever else is on the line: the positionals go, or
		// urfave/cli would look for a help topic named after the host
		{"host 80 --help", "--help"},
		{"-lvh 4444", "-l -v -h"},
		{"connect host 80 -h", "connect -h"},
		{"--help=false host 80", "--help=false -- host 80"},
		{"-s -h host 80", "-s -h -- host 80"}, // -h is -s's value here
	}
	flags := flagList()
	for _, tt := range tests {
		got := strings.Join(normalizeArgs(strings.Fields(tt.in), flags, cmds), " ")
		if got != tt.want {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestUsageErrors runs sonde in-process on malformed command lines: each
// must exit 2 with a "sonde: " message and no more than a hint line, and
// print nothing on stdout. None of them may touch the network.
func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"127.0.0.1", "0"},
		{"127.0.0.1", "65536"},
		{"127.0.0.1", "-5"},
		{"127.0.0.1", "nosuchservice"},
		{"[::1", "80"},
		{"exa mple.com", "80"},
		{"127.0.0.1:"},
		{"a", "b", "c"},
		{"-l"},
		{"-l", "localhost"},
		{"-l", "-p", "80", "81"},
		{"-4", "-6", "h", "1"},
		{"-k", "h", "1"},
		{"--max-conns", "2", "-l", "1"},
		{"--max-conns", "x", "-lk", "1"},
		{"--replies", "1", "h", "1"},
		{"--send-only", "--recv-only", "h", "1"},
		{"-w", "soon", "h", "1"},
		{"-w", "-1", "h", "1"},
		{"-i", "x", "h", "1"},
		{"-q", "", "h", "1"},
		{"--color", "purple", "h", "1"},
		{"-U"},
		{"-U", "-p", "1", "/tmp/x"},
		{"-Z", "h", "1"},
		{"--nope"},
		{"-n", "localhost", "1"},
		{"-4", "::1", "80"},
		{"-s", "[bad", "h", "1"},
		{"connect", "-l", "h", "1"},
		{"-p", "99999", "127.0.0.1", "80"},
		{"connect", "h", "80000"},
		{"\x00", "\xff"},
		{"-\xff"},
		{"-w", "1", "--wait", "2", "h", "1"},
		// an empty host is missing, as for connect and scan: not a name
		// that does not resolve (wait retried it until --timeout)
		{"wait", "", "80"},
		{"wait", ":80"},
		{"ping", "", "80"},
		{"ping", "-c", "1", ":80"},
		// a newline in a file name stays in its line (it split the error)
		{"--tls", "--ca", "no\nsuch.pem", "h", "1"},
	}
	for _, args := range cases {
		checkUsageError(t, args)
	}
}

// checkUsageError runs sonde with args and checks that it is refused as a
// usage error should be: exit 2, nothing on stdout, one "sonde: " line
// and at most a hint line. It returns stderr.
func checkUsageError(t *testing.T, args []string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	switch {
	case code != exitUsage:
		t.Errorf("sonde %q: exit %d, want 2; stderr:\n%s", args, code, stderr.String())
	case stdout.Len() != 0:
		t.Errorf("sonde %q: wrote %q to stdout", args, stdout.String())
	case !strings.HasPrefix(lines[0], "sonde: ") || len(lines) > 2:
		t.Errorf("sonde %q: want one error line (and a hint), got:\n%s", args, stderr.String())
	case len(lines) == 2 && !strings.HasPrefix(lines[1], "sonde: hint: "):
		t.Errorf("sonde %q: second line is not a hint:\n%s", args, stderr.String())
	}
	return stderr.String()
}

// An error quoting what the user typed stays one line, whatever it holds:
// a newline in a socket path is written \n, not sent on.
func TestErrorsStayOnOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x\ny.sock") // no such socket
	var stdout, stderr bytes.Buffer
	code := run([]string{"-U", path}, strings.NewReader(""), &stdout, &stderr)
	want := "sonde: cannot connect to " + strings.ReplaceAll(path, "\n", `\n`) + ": no such socket file\n" +
		"sonde: hint: check the path; the listener may not be running\n"
	if code != exitFailure || stderr.String() != want {
		t.Errorf("sonde -U %q: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", path, code, stderr.String(), want)
	}
}

// Help asked for anywhere on a command line prints the command's help
// (exit 0), never "No help topic for 'HOST'" (exit 1).
func TestHelpWithArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"127.0.0.1", "9999", "--help"}, "GLOBAL OPTIONS"},
		{[]string{"--help", "127.0.0.1"}, "GLOBAL OPTIONS"},
		{[]string{"scan", "127.0.0.1", "80", "-h"}, "sonde scan [flags] HOST PORTS"},
		{[]string{"completion", "bash", "--help"}, "sonde completion bash|zsh|fish"},
		{[]string{"echo", "--help", "7"}, "sonde echo [flags] [HOST] PORT"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Errorf("sonde %q: exit %d, want 0; stderr:\n%s", tc.args, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("sonde %q: stdout lacks %q:\n%s", tc.args, tc.want, stdout.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("sonde %q wrote to stderr: %q", tc.args, stderr.String())
		}
	}
}

// Both spellings of a flag are refused in sonde's words, not urfave/cli's
// ("Cannot use two forms of the same flag: w wait").
func TestTwoFormsOfAFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-v", "--verbose", "h", "1"}, strings.NewReader(""), &stdout, &stderr)
	want := "sonde: -v and --verbose are the same flag: give it once\nsonde: hint: sonde --help lists every flag\n"
	if code != exitUsage || stderr.String() != want {
		t.Errorf("sonde -v --verbose h 1: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", code, stderr.String(), want)
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"--listen, -l", "--wait value, -w value", "EXAMPLES"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("--help wrote to stderr: %q", stderr.String())
	}
}

// A flag name must take a value in every command or in none, or
// normalizeArgs could not split "-xN" the same way for all of them.
func TestFlagNamesAgreeAcrossCommands(t *testing.T) {
	app := newApp(runEnv{})
	takes := map[string]bool{}
	check := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			tv := f.(cli.DocGenerationFlag).TakesValue()
			for _, n := range f.Names() {
				if prev, ok := takes[n]; ok && prev != tv {
					t.Errorf("%s: flag %q takes a value here but not elsewhere (or the reverse)", where, n)
				}
				takes[n] = tv
			}
		}
	}
	check("sonde", app.Flags)
	for _, c := range app.Commands {
		check(c.Name, c.Flags)
	}
}
