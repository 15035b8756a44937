package main

// Shell completion: `sonde completion bash|zsh|fish` prints a script built
// from the app's own commands and flags, so a new flag or command completes
// without a change here. Each script reads the words before the cursor the
// way normalizeArgs does: flags anywhere, short flags in clusters (-lvnp),
// a value after a flag that takes one, and a first argument that names a
// command. What completes:
//
//   - flags, long and short: the app's, or the command's once one is named;
//   - flag values: the choices in flagChoices; file names for TakesFile
//     flags and for those whose usage names a `FILE` (or `PATH`) value;
//   - the first argument: commands and host names (socket paths with -U);
//     a command's own words where commandArgs lists them, file names for
//     those in fileArgCommands.

import (
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/ui"
)

// completionShells are the shells `sonde completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

// flagChoices lists the values of flags that take one of a few words.
var flagChoices = map[string][]string{
	"color": {"auto", "always", "never"},
}

// commandArgs lists the words a command's first argument may be; the first
// argument of any other command is a host.
var commandArgs = map[string][]string{
	"completion": completionShells,
}

// fileArgCommands take a file as their first argument (sonde check POLICY).
var fileArgCommands = map[string]bool{"check": true}

// repeatedFlags may be given more than once (slice flags always may).
var repeatedFlags = map[string]bool{"verbose": true}

// pathFlag turns HOST into a socket path: with it, the first argument
// completes file names instead of host names.
const pathFlag = "unix"

func completionCommand(env runEnv) *cli.Command {
	return env.newCommand("completion", "print the shell completion script for bash, zsh or fish", "sonde completion bash|zsh|fish", nil,
		func(_ runEnv, c *cli.Context, _ *ui.UI) error {
			if c.NArg() != 1 {
				return usageError("completion takes one shell name: bash, zsh or fish")
			}
			if shell := c.Args().First(); !slices.Contains(completionShells, shell) {
				return usageError("no completion script for shell %q: use bash, zsh or fish", shell)
			}
			return writeCompletion(c.App.Writer, c.Args().First(), newCompletionModel(c.App))
		})
}

func writeCompletion(w io.Writer, shell string, m *completionModel) error {
	var b strings.Builder
	switch shell {
	case "bash":
		m.bash(&b)
	case "zsh":
		m.zsh(&b)
	case "fish":
		m.fish(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// completionModel is what the scripts need to know about the command line.
type completionModel struct {
	app        completionCommandModel // name ""
	commands   []completionCommandModel
	valueLong  []string // long names of every flag that takes a value, anywhere
	valueShort string   // and the short ones
	pathShort  string   // short names of pathFlag
}

type completionCommandModel struct {
	name, usage string
	names       []string // name and aliases
	flags       []completionFlag
}

type completionFlag struct {
	long, short []string // names without dashes: two or more characters / one
	usage       string
	placeholder string   // the `NAME` of the value in usage, e.g. FILE
	value       bool     // takes a value
	files       bool     // the value is a file name
	choices     []string // the value is one of these
	repeated    bool
}

// newCompletionModel reads the app after Setup, which has added --help and
// --version to its flags; a command gets its --help only when it runs, so it
// is added here.
func newCompletionModel(app *cli.App) *completionModel {
	app.Setup()
	m := &completionModel{}
	m.app = m.command("", nil, "", app.Flags, false)
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		m.commands = append(m.commands, m.command(c.Name, c.Aliases, c.Usage, c.Flags, !c.HideHelp))
	}
	return m
}

func (m *completionModel) command(name string, aliases []string, usage string, flags []cli.Flag, addHelp bool) completionCommandModel {
	cm := completionCommandModel{name: name, usage: usage}
	if name != "" {
		cm.names = append([]string{name}, aliases...)
	}
	if addHelp && cli.HelpFlag != nil && !slices.ContainsFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), "help") }) {
		flags = append(slices.Clip(flags), cli.HelpFlag)
	}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		cf := completionFlag{}
		for _, n := range f.Names() {
			if len([]rune(n)) == 1 {
				cf.short = append(cf.short, n)
			} else {
				cf.long = append(cf.long, n)
			}
		}
		if d, ok := f.(cli.DocGenerationFlag); ok {
			cf.placeholder, cf.usage = splitUsage(d.GetUsage())
			cf.value = d.TakesValue()
		}
		if s, ok := f.(cli.DocGenerationSliceFlag); ok && s.IsSliceFlag() {
			cf.repeated = true
		}
		switch f := f.(type) {
		case *cli.StringFlag:
			cf.files = f.TakesFile
		case *cli.StringSliceFlag:
			cf.files = f.TakesFile
		case *cli.GenericFlag:
			cf.files = f.TakesFile
		case *cli.PathFlag:
			cf.files = true
		}
		cf.files = cf.files || strings.HasSuffix(cf.placeholder, "FILE") || cf.placeholder == "PATH"
		for _, n := range f.Names() {
			cf.repeated = cf.repeated || repeatedFlags[n]
			if cf.choices == nil {
				cf.choices = flagChoices[n]
			}
		}
		if cf.value {
			for _, n := range cf.long {
				if !slices.Contains(m.valueLong, n) {
					m.valueLong = append(m.valueLong, n)
				}
			}
			for _, n := range cf.short {
				if isAlnum(n) && !strings.Contains(m.valueShort, n) {
					m.valueShort += n
				}
			}
		}
		if slices.Contains(cf.long, pathFlag) {
			for _, n := range cf.short {
				if isAlnum(n) && !strings.Contains(m.pathShort, n) {
					m.pathShort += n
				}
			}
		}
		cm.flags = append(cm.flags, cf)
	}
	return cm
}

// splitUsage separates urfave/cli's value placeholder, the first word in
// backquotes ("write the dump to `FILE`"), from the plain usage text.
func splitUsage(usage string) (placeholder, plain string) {
	if _, rest, ok := strings.Cut(usage, "`"); ok {
		placeholder, _, _ = strings.Cut(rest, "`")
	}
	return placeholder, strings.ReplaceAll(usage, "`", "")
}

// isAlnum reports whether a short flag name can go into a shell pattern
// bracket unquoted.
func isAlnum(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

func (f completionFlag) spellings() []string {
	var out []string
	for _, n := range f.long {
		out = append(out, "--"+n)
	}
	for _, n := range f.short {
		out = append(out, "-"+n)
	}
	return out
}

// valueFlags is every flag, across the app and its commands, whose value
// completes to something: choices or file names.
func (m *completionModel) valueFlags() []completionFlag {
	var out []completionFlag
	seen := make(map[string]bool)
	for _, c := range append([]completionCommandModel{m.app}, m.commands...) {
		for _, f := range c.flags {
			if !f.value || (f.choices == nil && !f.files) || seen[f.spellings()[0]] {
				continue
			}
			seen[f.spellings()[0]] = true
			out = append(out, f)
		}
	}
	return out
}

func (m *completionModel) commandNames() []string {
	var out []string
	for _, c := range m.commands {
		out = append(out, c.names...)
	}
	return out
}
