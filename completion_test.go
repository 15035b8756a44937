package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// completionScript is what `sonde completion SHELL` prints.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"completion", shell}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("sonde completion %s: exit %d, stderr: %s", shell, code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("sonde completion %s wrote to stderr: %s", shell, stderr.String())
	}
	return stdout.String()
}

// visibleSpellings is every way to type the visible flags: --name and -x.
func visibleSpellings(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		for _, n := range f.Names() {
			out = append(out, dashes(n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	bashFlagsLine = regexp.MustCompile(`(?m)^ {8}([^ ]+)\) flags='([^']*)' ;;$`)
	zshBlock      = regexp.MustCompile(`(?ms)^ {4}([^ \n]+)\)\n {8}specs=\(\n(.*?)\n {8}\) ;;$`)
	zshSpec       = regexp.MustCompile(`(?m)^ +'(?:\([^)]*\)|\*)?(--?[A-Za-z0-9][\w-]*)[=+]?\[`)
	fishLine      = regexp.MustCompile(`(?m)^complete -c sonde -n '__sonde_at ([^ ']+)' (.*)$`)
	fishName      = regexp.MustCompile(`(?:^| )-([sl]) ([\w-]+)`)
)

// offeredFlags reads a script back: for each scope (a command's name, or
// "" for sonde without one), the flag spellings it completes.
func offeredFlags(shell, script string) map[string][]string {
	scopes := make(map[string][]string)
	scope := func(s string) string {
		if s == "*" || s == "-" {
			return ""
		}
		s, _, _ = strings.Cut(s, "|") // a command and its aliases
		return s
	}
	switch shell {
	case "bash":
		for _, m := range bashFlagsLine.FindAllStringSubmatch(script, -1) {
			scopes[scope(m[1])] = strings.Fields(m[2])
		}
	case "zsh":
		for _, m := range zshBlock.FindAllStringSubmatch(script, -1) {
			for _, s := range zshSpec.FindAllStringSubmatch(m[2], -1) {
				scopes[scope(m[1])] = append(scopes[scope(m[1])], s[1])
			}
		}
	case "fish":
		for _, m := range fishLine.FindAllStringSubmatch(script, -1) {
			for _, n := range fishName.FindAllStringSubmatch(m[2], -1) {
				dash := "-"
				if n[1] == "l" {
					dash = "--"
				}
				scopes[scope(m[1])] = append(scopes[scope(m[1])], dash+n[2])
			}
		}
	}
	for k, v := range scopes {
		slices.Sort(v)
		scopes[k] = slices.Compact(v)
	}
	return scopes
}

// TestCompletionOffersEveryFlagAndCommand reads each script back and
// compares, command by command, the flags it completes with the app's:
// a flag missing, or one leaking into a command that lacks it, fails.
func TestCompletionOffersEveryFlagAndCommand(t *testing.T) {
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	app.Setup()
	want := map[string][]string{"": visibleSpellings(app.Flags)}
	var commands []string
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		commands = append(commands, c.Name)
		// a command's --help is added when it runs
		want[c.Name] = visibleSpellings(append(slices.Clone(c.Flags), cli.HelpFlag))
	}
	if len(commands) < 3 || !slices.Contains(commands, "completion") {
		t.Fatalf("commands = %v, want connect, listen, completion and more", commands)
	}
	for _, shell := range completionShells {
		script := completionScript(t, shell)
		got := offeredFlags(shell, script)
		for scope, flags := range want {
			if !slices.Equal(got[scope], flags) {
				t.Errorf("%s: sonde %s completes flags\n%v\nwant\n%v", shell, scope, got[scope], flags)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: flag lists for %d scopes, want %d (sonde and each command)", shell, len(got), len(want))
		}
		for _, c := range commands {
			var mention *regexp.Regexp
			switch shell {
			case "bash": // among the first words
				mention = regexp.MustCompile(`(?m)^    \[\[ \$sonde_cmd \]\] \|\| mapfile -t COMPREPLY < <\(compgen -W '(?:[^']* )?` + c + `[ ']`)
			case "zsh":
				mention = regexp.MustCompile(`(?m)^ +'` + c + `:`)
			case "fish":
				mention = regexp.MustCompile(`(?m)^complete -c sonde -n '__sonde_at - 0' -a ` + c + ` -d `)
			}
			if !mention.MatchString(script) {
				t.Errorf("%s: command %s is not offered as a first word (no match for %s)", shell, c, mention)
			}
		}
	}
}

// TestOfferedFlagsCanFail shows that the reader above sees a flag go
// missing from a script.
func TestOfferedFlagsCanFail(t *testing.T) {
	for _, shell := range completionShells {
		script := completionScript(t, shell)
		var cut string
		switch shell {
		case "bash":
			cut = regexp.MustCompile(`(?m)^( {8}\*\) flags='.*) --max-conns (.*)$`).ReplaceAllString(script, "$1 $2")
		case "zsh":
			cut = regexp.MustCompile(`(?m)^.*'\(--max-conns\)--max-conns=\[.*\n`).ReplaceAllString(script, "")
		case "fish":
			cut = regexp.MustCompile(`(?m)^complete -c sonde -n '__sonde_at -' -l max-conns .*\n`).ReplaceAllString(script, "")
		}
		if slices.Contains(offeredFlags(shell, cut)[""], "--max-conns") || !slices.Contains(offeredFlags(shell, script)[""], "--max-conns") {
			t.Errorf("%s: removing --max-conns from the script went unnoticed", shell)
		}
	}
}

func TestCompletionUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}, {"completion", "--shell", "bash"}} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("sonde %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
		if stdout.Len() > 0 {
			t.Errorf("sonde %s wrote to stdout: %q", strings.Join(args, " "), stdout.String())
		}
		if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) > 2 || !strings.HasPrefix(lines[0], "sonde: ") {
			t.Errorf("sonde %s: stderr %q, want a one-line sonde: error (and at most a hint)", strings.Join(args, " "), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	run([]string{"completion", "tcsh"}, strings.NewReader(""), &stdout, &stderr)
	if got := stderr.String(); !strings.Contains(got, "tcsh") || !strings.Contains(got, "bash, zsh or fish") {
		t.Errorf("sonde completion tcsh: stderr %q, want the bad name and the shells known", got)
	}
}

// completionCase is a command line typed up to the cursor (at the end of
// line) and what the shell must, and must not, offer there. {dir} stands
// for a directory holding the file "sock1". A candidate matches a wanted
// word when equal to it, or, for file names, when its base name is.
type completionCase struct {
	line      string
	want, not []string
}

var completionCases = []completionCase{
	{"sonde --col", []string{"--color"}, []string{"--crlf", "connect"}},
	{"sonde -", []string{"-l", "--listen", "-4", "-v", "--verbose", "--version", "--help"}, []string{"connect"}},
	{"sonde ", []string{"connect", "listen", "completion", "testhost.example"}, []string{"--listen"}},
	{"sonde lis", []string{"listen"}, []string{"connect"}},
	// a value after a flag that takes one: the next word is the first argument
	{"sonde -p 4444 ", []string{"listen", "testhost.example"}, nil},
	{"sonde -lvnp 4444 ", []string{"listen", "testhost.example"}, nil},
	{"sonde -w5 ", []string{"connect"}, nil},
	{"sonde --wait 5 ", []string{"connect"}, nil},
	{"sonde -w ", nil, []string{"connect", "testhost.example", "--listen"}},
	{"sonde --color ", []string{"auto", "always", "never"}, []string{"connect"}},
	{"sonde --color=", []string{"auto", "always", "never"}, []string{"connect"}},
	{"sonde --color=al", []string{"always"}, []string{"auto"}},
	// past the first argument, no commands
	{"sonde example.com ", nil, []string{"connect", "listen"}},
	{"sonde -v example.com 80 --", []string{"--verbose", "--listen"}, nil},
	// a command's own flags and words
	{"sonde completion ", []string{"bash", "zsh", "fish"}, []string{"connect", "testhost.example"}},
	{"sonde completion --", []string{"--help"}, []string{"--listen", "--version"}},
	{"sonde listen --", []string{"--keep-open", "--allow"}, []string{"--version", "--listen", "--proxy", "--pin"}},
	{"sonde connect --", []string{"--proxy", "--pin"}, []string{"--listen", "--keep-open", "--allow"}},
	{"sonde -v listen --k", []string{"--keep-open"}, nil},
	// file names: -U makes HOST a path; --hex-file takes a FILE
	{"sonde -U {dir}/so", []string{"sock1"}, []string{"testhost.example"}},
	{"sonde -lU {dir}/", []string{"sock1"}, nil},
	{"sonde --hex-file {dir}/", []string{"sock1"}, nil},
	// check takes a policy file; scan's --targets a FILE
	{"sonde check {dir}/", []string{"sock1"}, []string{"testhost.example"}},
	{"sonde scan --targets {dir}/", []string{"sock1"}, nil},
	// after --, flags are arguments
	{"sonde -- -", nil, []string{"--listen", "-l"}},
}

// checkCompletion compares what a shell offered for each case (outs, in
// the order of cases) with the case's expectations.
func checkCompletion(t *testing.T, shell string, cases []completionCase, outs [][]string) {
	t.Helper()
	if len(outs) != len(cases) {
		t.Fatalf("%s answered %d of %d cases: %q", shell, len(outs), len(cases), outs)
	}
	for i, c := range cases {
		var got []string
		for _, cand := range outs[i] {
			cand, _, _ = strings.Cut(cand, "\t") // fish: candidate TAB description
			if strings.HasPrefix(cand, "--") {
				if _, value, ok := strings.Cut(cand, "="); ok {
					cand = value // --color=auto: the value is what was asked for
				}
			}
			if cand = strings.TrimSpace(cand); cand != "" {
				got = append(got, cand)
			}
		}
		has := func(w string) bool {
			return slices.ContainsFunc(got, func(g string) bool {
				return g == w || filepath.Base(strings.TrimSuffix(g, "/")) == w
			})
		}
		for _, w := range c.want {
			if !has(w) {
				t.Errorf("%s: %q offers %q, missing %q", shell, c.line, got, w)
			}
		}
		for _, w := range c.not {
			if slices.Contains(got, w) {
				t.Errorf("%s: %q offers %q, which it must not", shell, c.line, w)
			}
		}
	}
}

// completionEnv makes the scripts' outside world known: a directory with
// a file for path completion, a home whose ssh known_hosts (fish) and a
// HOSTFILE (bash) name one host. It returns the cases with {dir} filled in.
func completionEnv(t *testing.T) (home string, env []string, cases []completionCase) {
	t.Helper()
	dir := t.TempDir()
	home = filepath.Join(dir, "home")
	files := filepath.Join(dir, "files")
	for _, d := range []string{home + "/.ssh", files} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(files, "sock1"), "")
	write(filepath.Join(home, ".ssh/known_hosts"), "testhost.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEbq3aFD7kYq2rvjKtEwqDbpOkmUsnpnM6b1tSMgXHJ6\n")
	write(filepath.Join(dir, "hosts"), "192.0.2.7 testhost.example\n")
	env = append(os.Environ(), "HOME="+home, "HOSTFILE="+filepath.Join(dir, "hosts"),
		"XDG_CONFIG_HOME="+home+"/.config", "XDG_DATA_HOME="+home+"/.local/share", "XDG_CACHE_HOME="+home+"/.cache")
	for _, c := range completionCases {
		c.line = strings.ReplaceAll(c.line, "{dir}", files)
		cases = append(cases, c)
	}
	return home, env, cases
}

// needShell finds a shell, or skips the test; under CI (which installs
// them, see .ci/run) a missing shell fails it.
func needShell(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed: apt-get install -y " + name
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: the completion shells are required there)")
	}
	t.Skip(msg)
	return ""
}

// runShell runs a shell to completion; the deadline only guards against
// a hang on a loaded machine.
func runShell(t *testing.T, env []string, name string, args ...string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s\nstdout: %s", name, err, stderr.String(), out)
	}
	var lists [][]string
	var cur []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "<<end>>" {
			lists = append(lists, cur)
			cur = nil
		} else if line != "" {
			cur = append(cur, line)
		}
	}
	return lists
}

func writeScript(t *testing.T, dir, name, shell string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(completionScript(t, shell)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBashCompletion sources the script in bash and calls _sonde the way
// bash does: COMP_WORDS as readline splits them (--flag=value becomes
// --flag, =, value) and COMP_CWORD at the last word.
func TestBashCompletion(t *testing.T) {
	bash := needShell(t, "bash")
	_, env, cases := completionEnv(t)
	script := writeScript(t, t.TempDir(), "sonde.bash", "bash")
	var prog strings.Builder
	prog.WriteString("source " + shellQuote(script) + " || exit 1\n")
	prog.WriteString("[[ $(complete -p sonde) == 'complete -F _sonde sonde' ]] || { echo 'sonde is not registered' >&2; exit 1; }\n")
	for _, c := range cases {
		var words []string
		for _, w := range strings.Split(c.line, " ") {
			if name, value, ok := strings.Cut(w, "="); ok && strings.HasPrefix(w, "--") {
				words = append(words, shellQuote(name), "=", shellQuote(value))
			} else {
				words = append(words, shellQuote(w))
			}
		}
		prog.WriteString("COMP_WORDS=(" + strings.Join(words, " ") + ")\n")
		prog.WriteString("COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=" + shellQuote(c.line) + "; COMP_POINT=${#COMP_LINE}\n")
		prog.WriteString("_sonde; printf '%s\\n' \"${COMPREPLY[@]}\"; echo '<<end>>'\n")
	}
	checkCompletion(t, "bash", cases, runShell(t, env, bash, "--norc", "--noprofile", "-c", prog.String()))
}

// TestZshCompletion loads the script from $fpath with compinit and presses
// TAB in a real interactive zsh (testdata/completion/capture.zsh).
func TestZshCompletion(t *testing.T) {
	zsh := needShell(t, "zsh")
	_, env, cases := completionEnv(t)
	fpath := t.TempDir()
	writeScript(t, fpath, "_sonde", "zsh")
	harness, err := filepath.Abs("testdata/completion/capture.zsh")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", harness, fpath}
	for _, c := range cases {
		args = append(args, c.line)
	}
	checkCompletion(t, "zsh", cases, runShell(t, env, zsh, args...))
}

// TestZshCompletionSourced checks the other way to load it: sourced (not
// autoloaded as _sonde), the script registers _sonde with compdef rather
// than running it. compdef is a stand-in here: compinit's own is tested
// through $fpath above.
func TestZshCompletionSourced(t *testing.T) {
	zsh := needShell(t, "zsh")
	_, env, _ := completionEnv(t)
	script := writeScript(t, t.TempDir(), "sonde.zsh", "zsh")
	prog := "compdef() { print -r -- compdef $* }; _arguments() { print -r -- ran }; source " + shellQuote(script)
	cmd := exec.Command(zsh, "-f", "-c", prog)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "compdef _sonde sonde\n" {
		t.Errorf("zsh: sourcing the script printed %q (%v), want it to call compdef _sonde sonde", out, err)
	}
}

// TestFishCompletion sources the script in fish and asks complete -C.
func TestFishCompletion(t *testing.T) {
	fish := needShell(t, "fish")
	_, env, cases := completionEnv(t)
	script := writeScript(t, t.TempDir(), "sonde.fish", "fish")
	args := []string{"--no-config", "-c", "source $argv[1]; or exit 1; for l in $argv[2..-1]; complete -C $l; echo '<<end>>'; end", script}
	for _, c := range cases {
		args = append(args, c.line)
	}
	checkCompletion(t, "fish", cases, runShell(t, env, fish, args...))
}
