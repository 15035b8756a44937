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
//     a command's own words where commandArgs lists them.

import (
	"fmt"
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

// shellQuote quotes s for bash and zsh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish, where \ and ' are escaped inside quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
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

// parserFuncs are the word-reading helpers bash and zsh share: they speak
// the same [[ ]] and ${x%%pattern} dialect.
func (m *completionModel) parserFuncs(b *strings.Builder) {
	b.WriteString("# _sonde_takes_value WORD: does WORD, a flag or a cluster of short flags\n")
	b.WriteString("# (-lvnp), take the next word as its value?\n")
	b.WriteString("_sonde_takes_value() {\n    local rest head\n    case $1 in\n    --*=*) return 1 ;;\n")
	if len(m.valueLong) > 0 {
		fmt.Fprintf(b, "    --%s) return 0 ;;\n", strings.Join(m.valueLong, "|--"))
	}
	b.WriteString("    --*) return 1 ;;\n")
	if m.valueShort != "" {
		fmt.Fprintf(b, "    -?*)\n        rest=${1#-}\n        head=${rest%%%%[%s]*}\n", m.valueShort)
		b.WriteString("        [[ $head != \"$rest\" ]] && ((${#head} == ${#rest} - 1))\n        return ;;\n")
	}
	b.WriteString("    esac\n    return 1\n}\n\n")

	b.WriteString("# _sonde_sets_path WORD: does WORD make HOST a socket path?\n")
	b.WriteString("_sonde_sets_path() {\n    local rest\n    case $1 in\n")
	fmt.Fprintf(b, "    --%s) return 0 ;;\n    --*) return 1 ;;\n", pathFlag)
	if m.pathShort != "" {
		b.WriteString("    -?*)\n        rest=${1#-}\n")
		if m.valueShort != "" {
			fmt.Fprintf(b, "        rest=${rest%%%%[%s]*}\n", m.valueShort)
		}
		fmt.Fprintf(b, "        [[ $rest == *[%s]* ]]\n        return ;;\n", m.pathShort)
	}
	b.WriteString("    esac\n    return 1\n}\n\n")

	b.WriteString("_sonde_is_command() {\n    case $1 in\n")
	if names := m.commandNames(); len(names) > 0 {
		fmt.Fprintf(b, "    %s) return 0 ;;\n", strings.Join(names, "|"))
	}
	b.WriteString("    esac\n    return 1\n}\n\n")
}

// scanWords is the loop over the words before the cursor, for bash (first
// word at index 1, cursor at COMP_CWORD) and zsh (2 and CURRENT). It sets
// sonde_cmd (the command named, if any), sonde_npos (arguments before the
// cursor, besides the command), sonde_path (-U seen) and sonde_opts (empty
// after "--"). The prefix keeps clear of zsh's special parameters (path,
// commands) and of the locals of _arguments (cmd, opts).
func scanWords(b *strings.Builder, words, first, cursor string) {
	fmt.Fprintf(b, `    local w sonde_cmd= sonde_path= sonde_opts=1
    local -i i sonde_npos=0
    for ((i = %[2]s; i < %[3]s; i++)); do
        w=${%[1]s[i]}
        if [[ $sonde_opts && $w == -?* ]]; then
            if [[ $w == -- ]]; then
                sonde_opts=
                continue
            fi
            _sonde_sets_path "$w" && sonde_path=1
            if _sonde_takes_value "$w"; then
                ((++i))
                [[ ${%[1]s[i]} == = ]] && ((++i)) # --flag=value, split by bash
            fi
        elif [[ $sonde_opts && $w == = ]]; then
            ((++i)) # the value of --flag=value
        elif [[ -z $sonde_cmd ]] && ((sonde_npos == 0)) && _sonde_is_command "$w"; then
            sonde_cmd=$w
        else
            ((++sonde_npos))
        fi
    done
`, words, first, cursor)
}

func (m *completionModel) bash(b *strings.Builder) {
	b.WriteString(`# bash completion for sonde                                -*- shell-script -*-
# Generated by "sonde completion bash". Install it as
# /usr/share/bash-completion/completions/sonde (or, for one user,
# ~/.local/share/bash-completion/completions/sonde), or load it into the
# running shell with: source <(sonde completion bash)

`)
	m.parserFuncs(b)
	b.WriteString("_sonde() {\n")
	b.WriteString(`    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # bash splits --flag=value at "=" (see COMP_WORDBREAKS)
    if [[ $cur == = && $prev == --* ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    COMPREPLY=()
`)
	scanWords(b, "COMP_WORDS", "1", "COMP_CWORD")
	b.WriteString(`
    # the value of a flag
    if [[ $sonde_opts ]] && _sonde_takes_value "$prev"; then
        local name=${prev#--}
        [[ $prev == --* ]] || name=${prev: -1}
        case $name in
`)
	for _, f := range m.valueFlags() {
		fmt.Fprintf(b, "        %s)\n", strings.Join(append(slices.Clone(f.long), f.short...), "|"))
		if f.choices != nil {
			fmt.Fprintf(b, "            mapfile -t COMPREPLY < <(compgen -W %s -- \"$cur\") ;;\n", shellQuote(strings.Join(f.choices, " ")))
		} else {
			b.WriteString("            compopt -o filenames 2>/dev/null\n")
			b.WriteString("            mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n")
		}
	}
	b.WriteString(`        esac
        return 0
    fi

    if [[ $sonde_opts && $cur == -* ]]; then
        local flags
        case $sonde_cmd in
`)
	flagWords := func(c completionCommandModel) string {
		var words []string
		for _, f := range c.flags {
			words = append(words, f.spellings()...)
		}
		return shellQuote(strings.Join(words, " "))
	}
	for _, c := range m.commands {
		fmt.Fprintf(b, "        %s) flags=%s ;;\n", strings.Join(c.names, "|"), flagWords(c))
	}
	fmt.Fprintf(b, "        *) flags=%s ;;\n", flagWords(m.app))
	b.WriteString(`        esac
        mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
        return 0
    fi

    # the first argument: a command, a host, or a socket path
    ((sonde_npos == 0)) || return 0
    case $sonde_cmd in
`)
	for _, c := range m.commands {
		if words, ok := commandArgs[c.name]; ok {
			fmt.Fprintf(b, "    %s)\n        mapfile -t COMPREPLY < <(compgen -W %s -- \"$cur\")\n        return 0 ;;\n",
				strings.Join(c.names, "|"), shellQuote(strings.Join(words, " ")))
		}
	}
	fmt.Fprintf(b, `    esac
    if [[ $sonde_path ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    [[ $sonde_cmd ]] || mapfile -t COMPREPLY < <(compgen -W %s -- "$cur")
    mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -A hostname -- "$cur")
    return 0
}

complete -F _sonde sonde
`, shellQuote(strings.Join(m.commandNames(), " ")))
}

// zshSpecs are the _arguments specs of one command's flags.
func zshSpecs(c completionCommandModel) []string {
	escape := strings.NewReplacer(`\`, `\\`, `]`, `\]`, `[`, `\[`, `:`, `\:`)
	var specs []string
	for _, f := range c.flags {
		names := f.spellings()
		exclude := "(" + strings.Join(names, " ") + ")"
		if f.repeated {
			exclude = "*"
		}
		action := ""
		if f.value {
			message := strings.TrimLeft(names[0], "-")
			if isAlnum(strings.ReplaceAll(f.placeholder, "_", "")) {
				message = strings.ToLower(f.placeholder) // a colon would end the message
			}
			switch {
			case f.choices != nil:
				action = ":" + message + ":(" + strings.Join(f.choices, " ") + ")"
			case f.files:
				action = ":" + message + ":_files"
			default:
				action = ":" + message + ": "
			}
		}
		for _, n := range names {
			if f.value && strings.HasPrefix(n, "--") {
				n += "=" // --name=VALUE or --name VALUE
			} else if f.value {
				n += "+" // -xVALUE or -x VALUE
			}
			specs = append(specs, shellQuote(exclude+n+"["+escape.Replace(f.usage)+"]"+action))
		}
	}
	return specs
}

func (m *completionModel) zsh(b *strings.Builder) {
	b.WriteString(`#compdef sonde
# zsh completion for sonde. Generated by "sonde completion zsh". Install it as
# _sonde in a directory of $fpath, e.g. /usr/share/zsh/vendor-completions/_sonde
# or ~/.zfunc/_sonde (with fpath+=(~/.zfunc) before compinit in ~/.zshrc),
# or load it into the running shell with: source <(sonde completion zsh)

`)
	m.parserFuncs(b)
	b.WriteString("# _sonde_argument completes the first argument, from what _sonde found.\n")
	b.WriteString("_sonde_argument() {\n    ((sonde_npos == 0)) || return 1\n    case $sonde_cmd in\n")
	for _, c := range m.commands {
		if words, ok := commandArgs[c.name]; ok {
			fmt.Fprintf(b, "    %s)\n        compadd -- %s\n        return ;;\n", strings.Join(c.names, "|"), strings.Join(words, " "))
		}
	}
	b.WriteString("    esac\n    if [[ $sonde_path ]]; then\n        _files\n        return\n    fi\n")
	b.WriteString("    local ret=1\n    if [[ -z $sonde_cmd ]]; then\n        local -a sonde_commands\n        sonde_commands=(\n")
	for _, c := range m.commands {
		for _, n := range c.names {
			fmt.Fprintf(b, "            %s\n", shellQuote(n+":"+c.usage))
		}
	}
	b.WriteString("        )\n        _describe -t commands 'sonde command' sonde_commands && ret=0\n    fi\n")
	b.WriteString("    _hosts && ret=0\n    return ret\n}\n\n")

	b.WriteString("_sonde() {\n")
	scanWords(b, "words", "2", "CURRENT")
	b.WriteString("    local -a specs\n    case $sonde_cmd in\n")
	for _, c := range m.commands {
		fmt.Fprintf(b, "    %s)\n        specs=(\n", strings.Join(c.names, "|"))
		for _, s := range zshSpecs(c) {
			fmt.Fprintf(b, "            %s\n", s)
		}
		b.WriteString("        ) ;;\n")
	}
	b.WriteString("    *)\n        specs=(\n")
	for _, s := range zshSpecs(m.app) {
		fmt.Fprintf(b, "            %s\n", s)
	}
	b.WriteString(`        ) ;;
    esac
    _arguments -s -S : $specs '*:argument:_sonde_argument'
}

# Autoloaded from $fpath, this file is the body of _sonde: define, then run.
# Sourced, it registers itself.
if [[ $funcstack[1] == _sonde ]]; then
    _sonde "$@"
else
    compdef _sonde sonde
fi
`)
}

func (m *completionModel) fish(b *strings.Builder) {
	b.WriteString(`# fish completion for sonde. Generated by "sonde completion fish". Install it
# as /usr/share/fish/vendor_completions.d/sonde.fish (or, for one user,
# ~/.config/fish/completions/sonde.fish), or load it into the running shell
# with: sonde completion fish | source

`)
	// \x00, in a PCRE class, stands for "no flag": no word contains it.
	valueChars, pathChars := `\x00`, `\x00`
	if m.valueShort != "" {
		valueChars = m.valueShort
	}
	if m.pathShort != "" {
		pathChars = m.pathShort
	}
	fmt.Fprintf(b, `# __sonde_state prints, for the words before the cursor, the command
# named (or -), the number of arguments besides it, and 1 if -U was given.
function __sonde_state
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd -
    set -l npos 0
    set -l path 0
    set -l opts 1
    while set -q words[1]
        set -l w $words[1]
        set -e words[1]
        if test $opts = 1; and string match -qr -- '^-.' $w
            if string match -q -- -- $w
                set opts 0
            else if string match -qr -- '^--' $w
                string match -q -- '*=*' $w; and continue
                test $w = --%[4]s; and set path 1
                contains -- (string sub -s 3 -- $w) %[1]s; and set -e words[1]
            else
                string match -qr -- '^-[^%[2]s]*[%[3]s]' $w; and set path 1
                string match -qr -- '^-[^%[2]s]*[%[2]s]$' $w; and set -e words[1]
            end
        else if test $cmd = -; and test $npos = 0; and contains -- $w %[5]s
            set cmd $w
        else
            set npos (math $npos + 1)
        end
    end
    printf '%%s\n' $cmd $npos $path
end

# __sonde_at CMD [N [PATH]]: is the cursor in command CMD (- for none), at
# argument N, with (1) or without (0) -U?
function __sonde_at
    set -l s (__sonde_state)
    test $s[1] = $argv[1]; or return
    set -q argv[2]; and begin; test $s[2] = $argv[2]; or return; end
    set -q argv[3]; and begin; test $s[3] = $argv[3]; or return; end
    return 0
end

complete -c sonde -f
`, strings.Join(m.valueLong, " "), valueChars, pathChars, pathFlag, strings.Join(m.commandNames(), " "))

	for _, c := range append([]completionCommandModel{m.app}, m.commands...) {
		name := c.name
		if name == "" {
			name = "-"
			b.WriteString("\n# sonde [flags] HOST PORT\n")
			for _, sub := range m.commands {
				for _, n := range sub.names {
					fmt.Fprintf(b, "complete -c sonde -n '__sonde_at - 0' -a %s -d %s\n", n, fishQuote(sub.usage))
				}
			}
		} else {
			fmt.Fprintf(b, "\n# sonde %s\n", name)
		}
		cond := fishQuote("__sonde_at " + name)
		if words, ok := commandArgs[c.name]; ok {
			fmt.Fprintf(b, "complete -c sonde -n %s -a %s\n", fishQuote("__sonde_at "+name+" 0"), fishQuote(strings.Join(words, " ")))
		} else {
			fmt.Fprintf(b, "complete -c sonde -n %s -a '(__fish_print_hostnames)'\n", fishQuote("__sonde_at "+name+" 0 0"))
			fmt.Fprintf(b, "complete -c sonde -n %s -F\n", fishQuote("__sonde_at "+name+" 0 1"))
		}
		for _, f := range c.flags {
			line := "complete -c sonde -n " + cond
			for _, n := range f.short {
				line += " -s " + n
			}
			for _, n := range f.long {
				line += " -l " + n
			}
			switch {
			case f.value && f.choices != nil:
				line += " -x -a " + fishQuote(strings.Join(f.choices, " "))
			case f.value && f.files:
				line += " -r -F"
			case f.value:
				line += " -x"
			}
			if f.usage != "" {
				line += " -d " + fishQuote(f.usage)
			}
			b.WriteString(line + "\n")
		}
	}
}
