package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

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
		{[]string{"127.0.0.1", "9999", "--help"}, "CONNECTION OPTIONS"},
		{[]string{"--help", "127.0.0.1"}, "CONNECTION OPTIONS"},
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
	for _, want := range []string{"--listen, -l", "--wait DUR, -w DUR", "EXAMPLES"} {
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

// Seed corpora live in testdata/fuzz/FuzzXxx; `go test` runs them as
// regression cases, `go test -fuzz` starts from them.

// argFlag is one flag as a parser read it.
type argFlag struct {
	name, value string
	hasValue    bool
}

// readArgs is what a command line means: the command, the flags in order
// and the positionals; failed is set when the line cannot parse (an
// unknown flag, a flag without its value), missing when a value is
// missing; help is set when -h or --help asks for help.
type readArgs struct {
	cmd                   string
	flags                 []argFlag
	pos                   []string
	failed, missing, help bool
}

// getoptRead reads a command line the way normalizeArgs promises urfave/cli
// will: as getopt_long does with argument permutation. "--" ends the flags;
// "--name=V" and "--name V" take a value; "-abc" are three flags; a letter
// that takes a value takes the rest of its word (one leading '=' dropped)
// or else the next word, whatever it is. Choices of sonde's own: a '-'
// among the flag letters (-l-p) makes the word one long flag (l-p) that
// urfave/cli rejects; a first positional that names a command is the
// command; and -h or --help drops the other positionals (it shows the
// command's help). This is the specification FuzzNormalizeArgs holds
// normalizeArgs to; it is written from its documentation, not its code.
func getoptRead(args []string, takes map[string]bool, commands []string) readArgs {
	var r readArgs
	// Like getopt, go on after an error, to see the whole line.
	long := func(body string, i *int) {
		name, value, has := strings.Cut(body, "=")
		tv, known := takes[name]
		if !known {
			r.failed = true
			return
		}
		if tv && !has {
			if *i+1 >= len(args) {
				r.failed, r.missing = true, true
				return
			}
			*i++
			value, has = args[*i], true
		}
		r.flags = append(r.flags, argFlag{name, value, has})
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			r.pos = append(r.pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			long(a[2:], &i)
		case len(a) > 1 && a[0] == '-':
			var letters []string
			for j := 1; j < len(a); {
				_, size := utf8.DecodeRuneInString(a[j:])
				letters = append(letters, a[j:j+size])
				j += size
			}
			dash := false
			for _, l := range letters {
				if l == "-" {
					dash = true
				}
				if dash || takes[l] {
					break
				}
			}
			if dash {
				long(a[1:], &i)
				continue
			}
			rest := a[1:]
			for _, l := range letters {
				rest = rest[len(l):]
				tv, known := takes[l]
				if !known {
					r.failed = true
					continue
				}
				if !tv {
					r.flags = append(r.flags, argFlag{l, "", false})
					continue
				}
				switch {
				case rest != "":
					r.flags = append(r.flags, argFlag{l, strings.TrimPrefix(rest, "="), true})
				case i+1 < len(args):
					i++
					r.flags = append(r.flags, argFlag{l, args[i], true})
				default:
					r.failed, r.missing = true, true
				}
				break
			}
		default:
			r.pos = append(r.pos, a)
		}
	}
	if len(r.pos) > 0 && slices.Contains(commands, r.pos[0]) {
		r.cmd, r.pos = r.pos[0], r.pos[1:]
	}
	for _, fl := range r.flags {
		if on, err := strconv.ParseBool(fl.value); (fl.name == "h" || fl.name == "help") && (!fl.hasValue || err == nil && on) {
			r.help, r.pos = true, nil
		}
	}
	return r
}

// flagRead reads an argv as urfave/cli does with Go's flag package: a
// command first, then flags until "--" or the first word that is not one
// ("-name", "--name", "-name=V"; a flag that takes a value takes the next
// word whatever it is); then, with no command yet, a first positional
// that names a command is one.
func flagRead(argv []string, takes map[string]bool, commands []string) readArgs {
	var r readArgs
	i := 0
	if len(argv) > 0 && slices.Contains(commands, argv[0]) {
		r.cmd, i = argv[0], 1
	}
	for ; i < len(argv); i++ {
		s := argv[i]
		if len(s) < 2 || s[0] != '-' {
			break
		}
		body := s[1:]
		if s[1] == '-' {
			if len(s) == 2 {
				i++
				break
			}
			body = s[2:]
		}
		if body[0] == '-' || body[0] == '=' {
			r.failed = true // "bad flag syntax"
			return r
		}
		name, value, has := body, "", false
		if k := strings.IndexByte(body[1:], '='); k >= 0 {
			name, value, has = body[:k+1], body[k+2:], true
		}
		tv, known := takes[name]
		if !known {
			r.failed = true // "flag provided but not defined"
			return r
		}
		if tv && !has {
			if i+1 >= len(argv) {
				r.failed = true // "flag needs an argument"
				return r
			}
			i++
			value, has = argv[i], true
		}
		r.flags = append(r.flags, argFlag{name, value, has})
	}
	r.pos = argv[i:]
	if r.cmd == "" && len(r.pos) > 0 && slices.Contains(commands, r.pos[0]) {
		r.cmd, r.pos = r.pos[0], r.pos[1:]
	}
	return r
}

// sondeFlags are the flags and commands run passes to normalizeArgs, and
// which flags take a value: those and urfave/cli's own -h, --help.
func sondeFlags() (flags []cli.Flag, takes map[string]bool, commands []string) {
	app := newApp(runEnv{})
	flags = app.Flags
	for _, c := range app.Commands {
		commands = append(commands, c.Name)
		flags = append(flags, c.Flags...)
	}
	takes = make(map[string]bool)
	for _, f := range flags {
		for _, n := range f.Names() {
			takes[n] = f.(cli.DocGenerationFlag).TakesValue()
		}
	}
	takes["h"], takes["help"] = false, false
	return flags, takes, commands
}

// FuzzNormalizeArgs: the getopt-style rewrite of argv (the fuzz input is
// the command line, split at spaces). urfave/cli reading the rewrite finds
// the same command, flags, values and positionals as getopt reading the
// original (getoptRead), and fails exactly when getopt fails (unknown
// flag, value missing). The rewrite is a fixed point, and unless a value is
// missing or help is asked for (then positionals go), and no word is a
// cluster (-lv, -p80), it only reorders words and adds or drops a "--".
func FuzzNormalizeArgs(f *testing.F) {
	for _, s := range []string{"host 80 -v", "-lvnp 4444", "-lvnp4444 -k", "-w5 host 80", "-p=80 -l", "connect -v echo 7", "x listen -l 80",
		"host -- -80", "--color=never --hex-file f host 80", "-é", "-\xff", "--proxy-auth a:b --", "-e", "-w -- host 80", "scan -z 127.0.0.1 1-100"} {
		f.Add(s)
	}
	flags, takes, commands := sondeFlags()
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, " ")
		}
		out := normalizeArgs(slices.Clone(args), flags, commands)
		want := getoptRead(args, takes, commands)
		got := flagRead(out, takes, commands)
		switch {
		case want.failed != got.failed:
			t.Fatalf("normalizeArgs(%q) = %q: getopt fails: %v, urfave/cli fails: %v", args, out, want.failed, got.failed)
		case want.failed:
		case got.cmd != want.cmd || !slices.Equal(got.flags, want.flags) || !slices.Equal(got.pos, want.pos):
			t.Fatalf("normalizeArgs(%q) = %q\nurfave/cli reads %+v\ngetopt reads     %+v", args, out, got, want)
		}
		if again := normalizeArgs(slices.Clone(out), flags, commands); !slices.Equal(again, out) {
			t.Fatalf("normalizeArgs(%q) = %q, but normalizing that gives %q", args, out, again)
		}
		for _, a := range args {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' {
				if _, size := utf8.DecodeRuneInString(a[1:]); size != len(a)-1 {
					return // a cluster: split into several words
				}
			}
		}
		if want.missing || want.help {
			return // the positionals may be dropped
		}
		words := func(s []string) []string {
			s = slices.DeleteFunc(slices.Clone(s), func(w string) bool { return w == "--" })
			slices.Sort(s)
			return s
		}
		if !slices.Equal(words(out), words(args)) {
			t.Fatalf("normalizeArgs(%q) = %q: not the same words", args, out)
		}
	})
}

// TestValueFlagNames: valueFlagNames, which normalizes a command line
// without building every command, names exactly the flags of the app and
// of every command that take a value.
func TestValueFlagNames(t *testing.T) {
	flags, takes, commands := sondeFlags()
	for _, f := range flags {
		for _, n := range f.Names() {
			if takes[n] != takesValue(n) {
				t.Errorf("flag %q: takes a value %v, valueFlagNames says %v", n, takes[n], takesValue(n))
			}
		}
	}
	for _, n := range valueFlagNames {
		if !takes[n] {
			t.Errorf("valueFlagNames lists %q, which is no flag that takes a value", n)
		}
	}
	if names := commandNames(); !slices.Equal(names, commands) {
		t.Errorf("commandNames() = %q, want the app's %q", names, commands)
	}
}
