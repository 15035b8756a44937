package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// testOnlyReadyFile, when set by the test wrapper, receives the bound
// address of a listener, so end-to-end scripts need neither fixed ports
// nor sleeps.
var testOnlyReadyFile string

const shortUsage = `usage: sonde [flags] HOST PORT            connect (TCP; -u UDP; -U PATH for Unix)
       sonde -l [flags] [HOST] PORT       listen  (also: sonde -lvnp PORT)
       sonde -z HOST PORTS                netcat-style scan (sonde scan for the full report)
       sonde echo|scan|check|ping|wait|relay  the other modes; sonde MODE --help for each

examples:
  sonde example.com 80                    talk to a port by hand
  echo 'GET / HTTP/1.0' | sonde example.com 80
  sonde -lvnp 4444                        wait for one client on port 4444
  sonde -l 9000 > file                    receive a file (sonde host 9000 < file sends it)
  echo hi | sonde -u 127.0.0.1 7          one UDP datagram, print the reply

run sonde --help for every flag, man sonde for the whole story`

const appUsageText = `sonde [flags] HOST PORT           connect (TCP; -u UDP; -U PATH for Unix)
sonde -l [flags] [HOST] PORT      listen  (also: sonde -l -p PORT, sonde -lvnp PORT)
sonde connect|listen ...          explicit spellings of the two above
sonde -z [flags] HOST PORTS       zero-I/O scan as in nc: only the exit status tells
sonde scan|ping|wait ...          reachability, latency, readiness
sonde check POLICY                hold a reachability policy: each rule PASS or FAIL
sonde trace HOST PORT             the hop where packets to a port stop
sonde echo|relay ...              throwaway servers (sonde help COMMAND for each)

HOST PORT may be written HOST:PORT ([::1]:80 for IPv6). Flags may come
anywhere and combine as in nc (-lvnp 4444, -w5). Durations take Go syntax
(500ms, 2s) or a number of seconds.

EXAMPLES:
sonde example.com 80                       talk to a port by hand
printf 'GET / HTTP/1.0\r\n\r\n' | sonde example.com 80
sonde -lvnp 4444                           wait for one client on port 4444
sonde -l 9000 > file                       receive a file; sonde host 9000 < file sends it
echo hi | sonde -u 127.0.0.1 7             send a datagram, print the reply
sonde -lU /tmp/app.sock                    listen on a Unix socket
sonde scan example.com 22,80,443           which ports are open
sonde wait db 5432 && ./migrate            go on once the port accepts connections`

// runEnv is what every command's action needs from the process: the
// signal-aware context and the three standard streams.
type runEnv struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commandFunc is a command's own work, once the action wrapper has set up
// colour and the ui at the verbosity -v asks for.
type commandFunc func(env runEnv, c *cli.Context, u *ui.UI) error

// action is the wrapper every command's Action goes through, so that
// --color and -v mean the same to all of them.
func (env runEnv) action(run commandFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		// A command without --color reads the app's, which is "auto".
		mode, err := colorMode(c)
		if err != nil {
			return err
		}
		setColor(os.Getenv, mode, env.stderr)
		u := ui.New(env.stderr, c.Count("verbose"))
		err = run(env, c, u)
		// A command that held its messages (ui.Hold) and ended before
		// releasing them: a refused command line is reported alone;
		// anything else keeps what was said before it.
		if err != nil && transport.Explain(err).Usage {
			u.Discard()
		} else {
			u.Release()
		}
		return err
	}
}

// newCommand builds a command the way all of sonde's are: no help
// command (else "sonde connect h 80" asks for help) and usage errors in
// sonde's one-line form.
func (env runEnv) newCommand(name, usage, usageText string, flags []cli.Flag, run commandFunc) *cli.Command {
	return withHelp(&cli.Command{
		Name:            name,
		Usage:           usage,
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Flags:           flags,
		Action:          env.action(run),
	}, usageText)
}

// probeCommand builds scan, ping or wait: the address flags they share,
// the command's own, then --json, -v and --color.
func (env runEnv) probeCommand(name, usage, usageText string, run commandFunc, report []cli.Flag, own ...cli.Flag) *cli.Command {
	return env.newCommand(name, usage, usageText, slices.Concat(probeFlags(), own, report), run)
}

// commandBuilder builds one command: name is the name it gets.
type commandBuilder struct {
	name  string
	build func(runEnv) *cli.Command
}

// commandBuilders are sonde's commands in the order --help lists them.
// runApp builds only the one a command line names: a start-up pays for
// its flags alone, not for every command's.
var commandBuilders = []commandBuilder{
	{"connect", func(env runEnv) *cli.Command { return connectCommand(env, false) }},
	{"listen", func(env runEnv) *cli.Command { return connectCommand(env, true) }},
	{"completion", completionCommand},
	{"echo", echoCommand},
	{"scan", scanCommand},
	{"check", checkCommand},
	{"ping", pingCommand},
	{"wait", waitCommand},
	{"trace", traceCommand},
	{"relay", relayCommand},
}

// commandNames are the names of commandBuilders, for normalizeArgs.
func commandNames() []string {
	names := make([]string, len(commandBuilders))
	for i, b := range commandBuilders {
		names[i] = b.name
	}
	return names
}

// allCommands builds every command.
func allCommands(env runEnv) []*cli.Command {
	commands := make([]*cli.Command, len(commandBuilders))
	for i, b := range commandBuilders {
		commands[i] = b.build(env)
	}
	return commands
}

// newApp is the whole app, with every command.
func newApp(env runEnv) *cli.App { return newAppWith(env, allCommands(env)) }

// newAppWith is the app with the commands given: all of them, or the
// one a command line runs, or none for the root's own modes (connect,
// listen, -z).
func newAppWith(env runEnv, commands []*cli.Command) *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit", DisableDefaultText: true}
	cli.VersionPrinter = printVersion
	synopsis, description, examples := splitHelp(appUsageText)
	return &cli.App{
		Name:                   "sonde",
		Usage:                  "talk to ports, pipe data, see why connections fail",
		UsageText:              synopsis,
		Description:            description,
		CustomAppHelpTemplate:  helpTemplate(examples, true),
		Version:                appVersion(),
		Writer:                 env.stdout,
		ErrWriter:              env.stderr,
		HideHelpCommand:        true,
		UseShortOptionHandling: false, // normalizeArgs splits clusters itself
		Flags:                  flagList(),
		OnUsageError:           onUsageError,
		ExitErrHandler:         func(*cli.Context, error) {},
		Commands:               commands,
		Action: env.action(func(env runEnv, c *cli.Context, u *ui.UI) error {
			err := connect(env, c, u, c.Bool("listen"))
			if err == nil {
				return nil
			}
			return withCommandHint(err, allCommands(env), c.Args().First())
		}),
	}
}

// runApp runs sonde's command line, written as for nc, on the app. The
// app holds only what the line needs: the command it names, or none when
// the root runs; every command when the line asks for the app's help
// (which lists them) or for a completion script (written from them all).
func runApp(env runEnv, args []string) error {
	var commands []*cli.Command
	if len(args) > 0 && args[0] == "help" {
		commands = allCommands(env)
		helpLine, ok := helpArgs(args, commands)
		if !ok {
			return &transport.InputError{Msg: fmt.Sprintf("no help for %q: sonde help takes a command name", strings.Join(args[1:], " ")),
				Hint: "sonde help lists the commands; to reach a host named help: sonde connect help PORT"}
		}
		args = helpLine
	}
	args, help := normalizeLine(args, takesValue, commandNames())
	if commands == nil {
		name := ""
		if len(args) > 0 {
			name = args[0]
		}
		i := slices.IndexFunc(commandBuilders, func(b commandBuilder) bool { return b.name == name })
		switch {
		case i >= 0 && name != "completion":
			c := commandBuilders[i].build(env)
			c.Flags = directFlags(c.Flags)
			commands = []*cli.Command{c}
		case i >= 0 || help:
			commands = allCommands(env)
		}
	}
	app := newAppWith(env, commands)
	if len(commands) <= 1 {
		app.Flags = directFlags(app.Flags)
	}
	return app.Run(append([]string{"sonde"}, args...))
}

// setColor decides whether messages are coloured: --color never or always
// wins over everything; else (auto) NO_COLOR set to anything but "" or
// TERM=dumb forbids it, and otherwise stderr must be a terminal.
func setColor(getenv func(string) string, mode string, stderr io.Writer) {
	switch mode {
	case "always":
		color.NoColor = false
	case "never":
		color.NoColor = true
	default:
		color.NoColor = getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" || !isTerminalWriter(stderr)
	}
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeReadyFile hands the bound (listen) or local (connect) address to
// end-to-end tests.
func writeReadyFile(addr net.Addr) {
	if testOnlyReadyFile == "" {
		return
	}
	tmp := testOnlyReadyFile + ".tmp"
	if os.WriteFile(tmp, []byte(addr.String()), 0o600) == nil {
		os.Rename(tmp, testOnlyReadyFile)
	}
}

func usageError(format string, args ...any) error {
	return &transport.InputError{Msg: fmt.Sprintf(format, args...)}
}

// releaseOnReady holds u's messages (ui.Hold) until a listener is ready:
// bound, and past the mode's own checks of its addresses, which may still
// refuse the command line. Then it writes them and calls ready.
func releaseOnReady(u *ui.UI, ready func(net.Addr)) func(net.Addr) {
	u.Hold()
	return func(addr net.Addr) {
		u.Release()
		if ready != nil {
			ready(addr)
		}
	}
}

// onUsageError turns urfave/cli's parse errors into sonde's one-line form.
// An unknown flag near one of the command's gets "did you mean" instead
// of the pointer to --help.
func onUsageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	helpHint := "sonde --help lists every flag"
	var flags []cli.Flag
	if c != nil && c.Command != nil {
		flags = c.Command.Flags
		if name := c.Command.Name; name != "" && name != c.App.Name {
			helpHint = "sonde " + name + " --help lists its flags"
		}
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		if err := ncatError(name); err != nil {
			return err
		}
		if s := suggestFlag(flags, name); s != "" {
			helpHint = "did you mean " + s + "?"
		}
		return &transport.InputError{Msg: "unknown flag " + dashed(name), Hint: helpHint}
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return &transport.InputError{Msg: "flag " + rest + " needs a value", Hint: helpHint}
	}
	if rest, ok := strings.CutPrefix(msg, "Cannot use two forms of the same flag: "); ok {
		if alias, name, ok := strings.Cut(rest, " "); ok { // "w wait": -w and --wait both given
			return &transport.InputError{Msg: dashed(alias) + " and " + dashed(name) + " are the same flag: give it once",
				Hint: helpHint}
		}
	}
	return &transport.InputError{Msg: msg, Hint: helpHint}
}

// dashed spells a flag name the way the user must have typed it: Go's flag
// package reports "--bogus" as "-bogus".
func dashed(name string) string {
	name = strings.TrimLeft(name, "-")
	if len([]rune(name)) > 1 {
		return "--" + name
	}
	return "-" + name
}
