package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

const manPage = "man/sonde.1"

// helpFlags returns every flag `sonde --help` prints: flagList() plus the
// help and version flags urfave/cli adds when the app is set up.
func helpFlags(t *testing.T) []cli.Flag {
	t.Helper()
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	app.Setup()
	flags := app.Flags
	if want := len(flagList()) + 2; len(flags) != want {
		t.Fatalf("app has %d flags, want flagList() plus --help and --version (%d)", len(flags), want)
	}
	for _, name := range []string{"help", "version"} {
		if !slices.ContainsFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) }) {
			t.Fatalf("no --%s flag among the app's flags", name)
		}
	}
	return flags
}

func TestManPageDocumentsEveryFlag(t *testing.T) {
	page, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range checkManPage(string(page), helpFlags(t)) {
		t.Error(problem)
	}
}

// TestManPageDocumentsCommandFlags checks the flags of every command
// (sonde echo has options of its own): each must have a .TP entry
// somewhere in the page.
func TestManPageDocumentsCommandFlags(t *testing.T) {
	page, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	tagged := make(map[string]bool)
	for _, tag := range tagLines(string(page)) {
		for _, name := range roffFlags(tag) {
			tagged[name] = true
		}
	}
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	for _, cmd := range app.Commands {
		for _, f := range cmd.Flags {
			for _, name := range f.Names() {
				if !tagged[name] {
					t.Errorf("sonde %s %s has no .TP entry in %s", cmd.Name, dashes(name), manPage)
				}
			}
		}
	}
}

func TestManPageSections(t *testing.T) {
	page, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool)
	for _, s := range sections(string(page), ".SH") {
		have[s.title] = true
	}
	for _, want := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "BEHAVIOUR",
		"EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "COMPATIBILITY", "SEE ALSO"} {
		if !have[want] {
			t.Errorf("%s has no .SH %s section", manPage, want)
		}
	}
	exit := sectionBody(string(page), ".SH", "EXIT STATUS")
	for _, code := range []int{exitOK, exitFailure, exitUsage, exitInterrupted, exitTerminated} {
		if !slices.Contains(tagLines(exit), ".B "+strconv.Itoa(code)) {
			t.Errorf("EXIT STATUS has no .TP entry for %d", code)
		}
	}
}

// TestManPageCheckFails shows that checkManPage is not a test that cannot
// fail: a flag left undocumented, one filed under the wrong category and
// one documented but not in --help are all reported.
func TestManPageCheckFails(t *testing.T) {
	page := `.SH OPTIONS
.SS Mode
.TP
.BR \-l ", " \-\-listen
Listen.
.TP
.B \-\-hex
Not a flag of sonde.
.SS Output
.TP
\fB\-p\fP \fIPORT\fP, \fB\-\-port\fP \fIPORT\fP
Wrong category.
.SH EXIT STATUS
`
	flags := []cli.Flag{
		&cli.BoolFlag{Name: "listen", Aliases: []string{"l"}, Category: catMode},
		&cli.BoolFlag{Name: "udp", Aliases: []string{"u"}, Category: catMode},
		&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Category: catConn},
	}
	problems := strings.Join(checkManPage(page, flags), "\n")
	for _, want := range []string{`-u is not documented`, `--udp is not documented`,
		`--port is documented under "Output", want "Connection"`, `--hex is not a flag`} {
		if !strings.Contains(problems, want) {
			t.Errorf("checkManPage missed %q; it reported:\n%s", want, problems)
		}
	}
	if strings.Contains(problems, "--listen") {
		t.Errorf("checkManPage reported the documented --listen:\n%s", problems)
	}
}

// checkManPage compares the OPTIONS section of a man page with flags. Each
// flag name and alias must appear, roff-escaped (\-l, \-\-listen, \-4), in
// the tag line of a .TP entry under the .SS subsection named after the
// flag's --help category ("Help and version" for flags without one), and
// every flag in a tag line must be one of flags. It returns the problems.
func checkManPage(page string, flags []cli.Flag) []string {
	documented := make(map[string][]string) // flag name -> subsections
	for _, sub := range sections(sectionBody(page, ".SH", "OPTIONS"), ".SS") {
		for _, tag := range tagLines(sub.body) {
			for _, name := range roffFlags(tag) {
				documented[name] = append(documented[name], sub.title)
			}
		}
	}
	var problems []string
	known := make(map[string]bool)
	for _, f := range flags {
		want := "Help and version"
		if c, ok := f.(cli.CategorizableFlag); ok && c.GetCategory() != "" {
			want = c.GetCategory()
		}
		for _, name := range f.Names() {
			known[name] = true
			subs := documented[name]
			switch {
			case len(subs) == 0:
				problems = append(problems, dashes(name)+" is not documented in a .TP entry of OPTIONS in "+manPage)
			case !slices.Contains(subs, want):
				problems = append(problems, dashes(name)+" is documented under "+strconv.Quote(subs[0])+", want "+strconv.Quote(want))
			}
		}
	}
	for name := range documented {
		if !known[name] {
			problems = append(problems, dashes(name)+" is not a flag of sonde --help, but OPTIONS documents it")
		}
	}
	slices.Sort(problems)
	return problems
}

type section struct{ title, body string }

// sections splits roff text at lines starting with macro (".SH", ".SS").
func sections(text, macro string) []section {
	var out []section
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, macro+" "); ok {
			out = append(out, section{title: unquote(rest)})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body += line + "\n"
		}
	}
	return out
}

func sectionBody(text, macro, title string) string {
	for _, s := range sections(text, macro) {
		if s.title == title {
			return s.body
		}
	}
	return ""
}

// tagLines returns the line after each .TP: the tag of the entry.
func tagLines(text string) []string {
	lines := strings.Split(text, "\n")
	var tags []string
	for i, l := range lines {
		if strings.TrimSpace(l) == ".TP" && i+1 < len(lines) {
			tags = append(tags, lines[i+1])
		}
	}
	return tags
}

// roffFlag matches an escaped flag: \-l, \-4, \-\-listen, \-\-max\-conns.
var roffFlag = regexp.MustCompile(`\\-(\\-[a-z0-9]+(?:\\-[a-z0-9]+)*|[a-zA-Z0-9])\b`)

// roffFlags returns the flag names in a tag line, unescaped ("listen", "l").
func roffFlags(tag string) []string {
	var names []string
	for _, m := range roffFlag.FindAllStringSubmatch(tag, -1) {
		names = append(names, strings.TrimPrefix(strings.ReplaceAll(m[1], `\-`, "-"), "-"))
	}
	return names
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, `\-`, "-")
}
