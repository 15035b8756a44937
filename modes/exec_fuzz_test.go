package modes

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/transport"
)

// Seed corpora live in testdata/fuzz/FuzzXxx; `go test` runs them as
// regression cases, `go test -fuzz` starts from them. Neither target runs
// a program: ParseExec only looks PROG up in PATH.

// checkExecError: an error of -e or -c is an *InputError with a one-line
// message and a hint (exit status 2), like every other parse error.
func checkExecError(t *testing.T, what string, err error) {
	t.Helper()
	var in *transport.InputError
	if !errors.As(err, &in) {
		t.Fatalf("%s: error %v (%T) is not an *InputError", what, err, err)
	}
	if in.Msg == "" || in.Hint == "" || strings.ContainsAny(in.Msg+in.Hint, "\r\n") {
		t.Fatalf("%s: InputError %q (hint %q): want a one-line message and a hint", what, in.Msg, in.Hint)
	}
}

// FuzzParseExec: -e PROG ARGS. The value is split at white space and
// nothing else: Argv is strings.Fields of it, Name its first word, and
// joining Argv with spaces reads back the same. It fails, cleanly, only for
// a value with no word or a first word that is not a program in PATH; -e
// and -c agree on what is empty.
func FuzzParseExec(f *testing.F) {
	for _, s := range []string{"/bin/cat", "cat -n", "  sh\t-c  'echo hi' ", "", " \t\n", "/nonexistent/prog", "./", "no-such-program-sonde", "cat\u00a0-n", "/bin/cat\x00x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseExec(s)
		_, shellErr := ShellExec(s)
		if empty := len(strings.Fields(s)) == 0; empty != (shellErr != nil) {
			t.Fatalf("%q: -e sees %v words, -c says %v", s, len(strings.Fields(s)), shellErr)
		}
		if err != nil {
			checkExecError(t, "-e "+strconv.Quote(s), err)
			return
		}
		argv := strings.Fields(s)
		if !slices.Equal(x.Argv, argv) || x.Name != argv[0] || x.Shell != "" {
			t.Fatalf("ParseExec(%q) = %+v, want Argv %q", s, *x, argv)
		}
		again, err := ParseExec(strings.Join(x.Argv, " "))
		if err != nil || !slices.Equal(again.Argv, x.Argv) {
			t.Fatalf("ParseExec(%q) = %q, but joined back it gives %v, %v", s, x.Argv, again, err)
		}
	})
}

// FuzzShellExec: -c CMD. The command goes to the shell exactly as given;
// it is refused only when it is all white space, and is named in messages
// quoted, so on one line whatever it holds.
func FuzzShellExec(f *testing.F) {
	for _, s := range []string{"tr a-z A-Z", "echo \"$SONDE_REMOTE_ADDR\"\nexit 3", "", "  ", "\t\r\n", "\u00a0", "\x1b[2J", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		x, err := ShellExec(cmd)
		if err != nil {
			checkExecError(t, "-c "+strconv.Quote(cmd), err)
			if strings.TrimSpace(cmd) != "" {
				t.Fatalf("ShellExec(%q) refused a command that is not blank: %v", cmd, err)
			}
			return
		}
		if strings.TrimSpace(cmd) == "" {
			t.Fatalf("ShellExec(%q) accepted a blank command", cmd)
		}
		if x.Shell != cmd || len(x.Argv) != 0 {
			t.Fatalf("ShellExec(%q) = %+v: the command must go to the shell unchanged", cmd, *x)
		}
		if name, err := strconv.Unquote(x.Name); err != nil || name != cmd {
			t.Fatalf("ShellExec(%q): name %q is not the command quoted", cmd, x.Name)
		}
		if strings.ContainsFunc(x.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("ShellExec(%q): name %q holds control characters", cmd, x.Name)
		}
	})
}
