package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// helpPage runs sonde with args (asking for help) and returns stdout.
func helpPage(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(""), &stdout, &stderr); code != exitOK || stderr.Len() != 0 {
		t.Fatalf("sonde %q: exit %d, stderr:\n%s", args, code, stderr.String())
	}
	return stdout.String()
}

// flagLine matches the line of --help that lists a flag: its long name
// at the start, after the indentation.
func listsFlag(page, name string) bool {
	return regexp.MustCompile(`(?m)^   ` + regexp.QuoteMeta(dashes(name)) + `[ ,]`).MatchString(page)
}

// connect --help lists only what a connect accepts, listen --help only
// what a listener accepts; the root, which is both, lists everything.
func TestHelpPerCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd        string
		lists, not []string
		usage      string
	}{
		{"connect", []string{"proxy", "pin", "sni", "insecure", "zero", "port", "source", "wait", "tls", "exec"},
			[]string{"listen", "keep-open", "max-conns", "allow", "deny"}, "sonde connect [flags] HOST PORT"},
		{"listen", []string{"keep-open", "max-conns", "allow", "deny", "port", "tls", "cert", "exec"},
			[]string{"listen", "zero", "proxy", "proxy-type", "proxy-auth", "insecure", "sni", "pin"}, "sonde listen [flags] [HOST] PORT"},
		{"echo", []string{"delay", "allow"}, []string{"proxy", "zero"}, "sonde echo [flags] [HOST] PORT"},
	} {
		page := helpPage(t, tc.cmd, "--help")
		for _, f := range tc.lists {
			if !listsFlag(page, f) {
				t.Errorf("sonde %s --help does not list %s:\n%s", tc.cmd, dashes(f), page)
			}
		}
		for _, f := range tc.not {
			if listsFlag(page, f) {
				t.Errorf("sonde %s --help lists %s, which it does not take:\n%s", tc.cmd, dashes(f), page)
			}
		}
		if !strings.Contains(page, "USAGE:\n   "+tc.usage+"\n") {
			t.Errorf("sonde %s --help: usage is not %q:\n%s", tc.cmd, tc.usage, page)
		}
	}
	root := helpPage(t, "--help")
	for _, f := range flagList() {
		if !listsFlag(root, f.Names()[0]) {
			t.Errorf("sonde --help does not list %s", dashes(f.Names()[0]))
		}
	}
}

// The flags a command hides from its help it still accepts, to say why
// they do not apply, instead of calling them unknown.
func TestHiddenFlagsExplainThemselves(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"connect", "-k", "127.0.0.1", "1"}, "-k needs -l"},
		{[]string{"connect", "--allow", "127.0.0.1", "127.0.0.1", "1"}, "--allow and --deny choose the clients of a listener"},
		{[]string{"connect", "-l", "127.0.0.1", "1"}, "connect cannot be combined with -l"},
		{[]string{"listen", "-z", "127.0.0.1", "1"}, "-z cannot be combined with -l"},
		{[]string{"listen", "--pin", "sha256:" + strings.Repeat("ab", 32), "127.0.0.1", "0"}, "--pin is for TLS clients"},
	} {
		if got := checkUsageError(t, tc.args); !strings.Contains(got, tc.want) {
			t.Errorf("sonde %q: stderr %q, want %q", tc.args, got, tc.want)
		}
	}
}

// Every help page has one style of heading (upper case and a colon, at
// the left margin), names every placeholder (never urfave/cli's "value"),
// and keeps its examples under EXAMPLES.
func TestHelpLayout(t *testing.T) {
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	pages := map[string]string{"sonde": helpPage(t, "--help")}
	for _, c := range app.Commands {
		pages["sonde "+c.Name] = helpPage(t, c.Name, "--help")
	}
	heading := regexp.MustCompile(`^[A-Z][A-Z ]*:$`)
	for name, page := range pages {
		for _, line := range strings.Split(page, "\n") {
			if line != "" && !strings.HasPrefix(line, "   ") && !heading.MatchString(line) {
				t.Errorf("%s --help: %q is neither indented nor a heading", name, line)
			}
			if strings.HasPrefix(line, "   -") && regexp.MustCompile(`\bvalue\b`).MatchString(line) {
				t.Errorf("%s --help: unnamed placeholder in %q", name, line)
			}
			if strings.Contains(strings.ToLower(line), "examples:") && line != "EXAMPLES:" {
				t.Errorf("%s --help: examples heading %q", name, line)
			}
		}
		if name != "sonde completion" && !strings.Contains(page, "\nEXAMPLES:\n   sonde") {
			t.Errorf("%s --help has no examples:\n%s", name, page)
		}
	}
}

// helpTemplate quotes examples as text, whatever braces they hold.
func TestHelpTemplateQuotesExamples(t *testing.T) {
	var b bytes.Buffer
	cmd := withHelp(&cli.Command{Name: "x"}, "sonde x\n\nEXAMPLES:\nsonde x '{{.Name}}'  braces\n")
	cli.HelpPrinterCustom(&b, cmd.CustomHelpTemplate, cmd, nil)
	if !strings.Contains(b.String(), "sonde x '{{.Name}}'  braces") {
		t.Errorf("examples not quoted:\n%s", b.String())
	}
}
