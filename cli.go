package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"time"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const (
	catMode   = "Mode"
	catConn   = "Connection"
	catData   = "Data"
	catOutput = "Output"
)

// flagList builds sonde's flags. Each command gets its own copy, since
// urfave/cli keeps parse state in the flag values.
func flagList() []cli.Flag {
	return append([]cli.Flag{
		&cli.BoolFlag{Name: "listen", Aliases: []string{"l"}, Category: catMode, DisableDefaultText: true,
			Usage: "listen for a client instead of connecting (-p may give the port)"},
		&cli.BoolFlag{Name: "udp", Aliases: []string{"u"}, Category: catMode, DisableDefaultText: true,
			Usage: "use UDP (with -U: Unix datagram sockets)"},
		&cli.BoolFlag{Name: "unix", Aliases: []string{"U"}, Category: catMode, DisableDefaultText: true,
			Usage: "use a Unix-domain socket: HOST is a path (@name: Linux abstract)"},
		&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}, Category: catMode, DisableDefaultText: true,
			Usage: "with -l: keep listening, serve clients concurrently"},
		&cli.BoolFlag{Name: "zero", Aliases: []string{"z"}, Category: catMode, DisableDefaultText: true,
			Usage: "scan HOST PORTS without sending data: only the exit status tells (-v: every port); see sonde scan"},

		&cli.BoolFlag{Name: "4", Category: catConn, DisableDefaultText: true, Usage: "IPv4 only"},
		&cli.BoolFlag{Name: "6", Category: catConn, DisableDefaultText: true, Usage: "IPv6 only"},
		&cli.BoolFlag{Name: "numeric", Aliases: []string{"n"}, Category: catConn, DisableDefaultText: true,
			Usage: "numeric addresses only, never ask DNS"},
		&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Category: catConn, Usage: "source port (connect) or port to listen on (-l)"},
		&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Category: catConn, Usage: "source address (connect) or address to listen on (-l)"},
		&cli.StringFlag{Name: "wait", Aliases: []string{"w"}, Category: catConn,
			Usage: "connect timeout, and idle timeout of an established session (e.g. 5, 500ms)"},
		&cli.StringFlag{Name: "quit", Aliases: []string{"q"}, Category: catConn,
			Usage: "after stdin ends, quit after this long (negative: never; UDP default 1s)"},
		&cli.BoolFlag{Name: "shutdown", Aliases: []string{"N"}, Category: catConn, DisableDefaultText: true,
			Usage: "accepted for nc compatibility: sonde half-closes on stdin EOF by default"},
		&cli.BoolFlag{Name: "no-shutdown", Category: catConn, DisableDefaultText: true,
			Usage: "keep the write side open after stdin ends (for servers that treat FIN as abort)"},
		&cli.IntFlag{Name: "max-conns", Category: catConn,
			Usage: "with -lk: refuse clients beyond this many at once"},
		allowFlag(), denyFlag(),

		&cli.BoolFlag{Name: "no-stdin", Aliases: []string{"d"}, Category: catData, DisableDefaultText: true,
			Usage: "do not read stdin"},
		&cli.BoolFlag{Name: "crlf", Aliases: []string{"C"}, Category: catData, DisableDefaultText: true,
			Usage: "send CRLF for each LF read from stdin"},
		&cli.StringFlag{Name: "interval", Aliases: []string{"i"}, Category: catData,
			Usage: "pause this long after each line sent"},
		&cli.BoolFlag{Name: "send-only", Category: catData, DisableDefaultText: true,
			Usage: "only send: discard what arrives"},
		&cli.BoolFlag{Name: "recv-only", Category: catData, DisableDefaultText: true,
			Usage: "only receive: never read stdin (same as -d)"},
		&cli.IntFlag{Name: "replies", Category: catData,
			Usage: "UDP: exit after this many datagrams have arrived"},

		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Category: catOutput, DisableDefaultText: true,
			Usage: "report progress on stderr (-vv: more detail)"},
		hexFlag(), hexFileFlag(),
		&cli.BoolFlag{Name: "progress", Category: catOutput, DisableDefaultText: true,
			Usage: "show bytes and rate each way on stderr, then a summary"},
		&cli.StringFlag{Name: "color", Category: catOutput, Value: "auto",
			Usage: "colour messages: auto, always or never"},
	}, slices.Concat(tlsFlags(), proxyFlags(), execFlags())...)
}

const appUsageText = `sonde [flags] HOST PORT           connect (TCP; -u UDP; -U PATH for Unix)
sonde -l [flags] [HOST] PORT      listen  (also: sonde -l -p PORT, sonde -lvnp PORT)
sonde connect|listen ...          explicit spellings of the two above
sonde -z [flags] HOST PORTS       zero-I/O scan as in nc: only the exit status tells
sonde scan|ping|wait ...          reachability, latency, readiness (sonde scan --help)

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

func newApp(env runEnv) *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit", DisableDefaultText: true}
	cli.VersionPrinter = printVersion
	command := func(name, usage string, listen bool) *cli.Command {
		return &cli.Command{
			Name:            name,
			Usage:           usage,
			HideHelpCommand: true, // else "sonde connect h 80" asks for help
			UsageText:       "sonde " + name + " [flags] HOST PORT",
			Flags:           flagList(),
			OnUsageError:    onUsageError,
			Action:          func(c *cli.Context) error { return action(env, c, listen) },
		}
	}
	return &cli.App{
		Name:                   "sonde",
		Usage:                  "talk to ports, pipe data, see why connections fail",
		UsageText:              appUsageText,
		Version:                appVersion(),
		Writer:                 env.stdout,
		ErrWriter:              env.stderr,
		HideHelpCommand:        true,
		UseShortOptionHandling: false, // normalizeArgs splits clusters itself
		Flags:                  flagList(),
		OnUsageError:           onUsageError,
		ExitErrHandler:         func(*cli.Context, error) {},
		Commands: []*cli.Command{
			command("connect", "connect to HOST PORT (the default mode)", false),
			command("listen", "listen on [HOST] PORT (same as -l)", true),
			completionCommand(),
			echoCommand(env),
			scanCommand(env),
			pingCommand(env),
			waitCommand(env),
			relayCommand(env),
		},
		Action: func(c *cli.Context) error { return action(env, c, c.Bool("listen")) },
	}
}

// applyColor reads --color and sets the colour policy for stderr.
func applyColor(c *cli.Context, stderr io.Writer) error {
	switch c.String("color") {
	case "auto", "always", "never":
	default:
		return &transport.InputError{Msg: "bad --color " + c.String("color"), Hint: "use --color auto, always or never"}
	}
	setColor(os.Getenv("NO_COLOR"), c.String("color"), stderr)
	return nil
}

// action turns parsed flags into modes.Options, checks misuse before
// touching the network, and runs the mode.
func action(env runEnv, c *cli.Context, listen bool) error {
	ctx, stdin, stdout, stderr := env.ctx, env.stdin, env.stdout, env.stderr
	if err := applyColor(c, stderr); err != nil {
		return err
	}
	if err := checkProxy(c, listen); err != nil {
		return err
	}
	if err := checkExec(c); err != nil {
		return err
	}
	if c.Bool("zero") {
		return zeroScan(env, c, listen)
	}
	if c.Command != nil && c.Command.Name == "connect" && c.Bool("listen") {
		return usageError("connect cannot be combined with -l")
	}
	source, err := transport.ParseHost(c.String("source"))
	if err != nil {
		return err
	}
	u := ui.New(stderr, c.Count("verbose"))
	hex, closeHex, err := openHexLog(c, u)
	if err != nil {
		return err
	}
	defer closeHex()
	o := &modes.Options{
		Hex:             hex,
		Progress:        c.Bool("progress"),
		ProgressInPlace: isTerminalWriter(stderr),
		OnReady:         writeReadyFile,
		Network:         "tcp",
		Numeric:         c.Bool("numeric"),
		Source:          source,
		NoStdin:         c.Bool("no-stdin") || c.Bool("recv-only"),
		SendOnly:        c.Bool("send-only"),
		CRLF:            c.Bool("crlf"),
		NoShutdown:      c.Bool("no-shutdown"),
		Replies:         c.Int("replies"),
		Keep:            c.Bool("keep-open"),
		MaxConns:        c.Int("max-conns"),
		Stdin:           stdin,
		Stdout:          stdout,
		UI:              u,
		Interactive:     isTerminal(stdin),
	}
	unix, udp := c.Bool("unix"), c.Bool("udp")
	switch {
	case unix && udp:
		o.Network = "unixgram"
	case unix:
		o.Network = "unix"
	case udp:
		o.Network = "udp"
	}
	if err := checkMisuse(c, listen, unix); err != nil {
		return err
	}
	if o.Access, err = accessList(ctx, c); err != nil {
		return err
	}
	if c.Bool("4") {
		o.Family = 4
	} else if c.Bool("6") {
		o.Family = 6
	}
	if o.Timeout, err = durationFlag(c, "wait", false); err != nil {
		return err
	}
	if o.Interval, err = durationFlag(c, "interval", false); err != nil {
		return err
	}
	if c.IsSet("quit") {
		o.QuitSet = true
		if o.Quit, err = durationFlag(c, "quit", true); err != nil {
			return err
		}
	}

	args := c.Args().Slice()
	if unix {
		if len(args) != 1 {
			return &transport.InputError{Msg: "-U takes one socket path", Hint: "e.g. sonde -U /tmp/app.sock or sonde -lU /tmp/app.sock"}
		}
		o.Target = transport.Target{Host: args[0]}
	} else {
		portFlag := ""
		if listen {
			portFlag = c.String("port")
		}
		if o.Target, err = transport.SplitTarget(args, portFlag, listen); err != nil {
			return err
		}
		if listen {
			if _, err := transport.ParsePort(o.Target.Port, o.Network, true); err != nil {
				return err
			}
		} else if _, err := transport.ParsePort(o.Target.Port, o.Network, false); err != nil {
			return err
		}
	}
	if err := applyProxyExec(c, o, listen, u, stderr); err != nil {
		return err
	}
	if listen {
		if o.Source != "" {
			if o.Target.Host != "" && o.Target.Host != o.Source {
				return usageError("the listen address is given twice: -s %s and %s", o.Source, o.Target.Host)
			}
			o.Target.Host = o.Source
		}
		if o.TLSServer, err = serverTLSConfig(c, u, o.Target.Host, udp); err != nil {
			return err
		}
		return modes.Listen(ctx, o)
	}
	if c.IsSet("port") {
		if o.SourcePort, err = transport.ParsePort(c.String("port"), o.Network, false); err != nil {
			return err
		}
	}
	if o.TLSClient, err = clientTLSConfig(c, o.Target.Host, udp); err != nil {
		return err
	}
	return modes.Connect(ctx, o)
}

// checkMisuse rejects flag combinations that cannot mean anything, before
// any socket is opened.
func checkMisuse(c *cli.Context, listen, unix bool) error {
	both := func(a, b string) bool { return c.IsSet(a) && c.IsSet(b) }
	switch {
	case both("4", "6"):
		return usageError("-4 and -6 cannot be combined")
	case both("shutdown", "no-shutdown"):
		return usageError("-N and --no-shutdown cannot be combined")
	case both("send-only", "recv-only"):
		return usageError("--send-only and --recv-only cannot be combined")
	case both("send-only", "no-stdin"):
		return usageError("--send-only and -d cannot be combined: there would be nothing to send")
	case c.IsSet("keep-open") && !listen:
		return usageError("-k needs -l: only a listener can keep accepting clients")
	case c.IsSet("max-conns") && !c.Bool("keep-open"):
		return usageError("--max-conns needs -lk: a plain listener serves one client")
	case c.Int("max-conns") < 0:
		return usageError("bad --max-conns %d: must be 0 (no limit) or more", c.Int("max-conns"))
	case c.IsSet("replies") && !c.Bool("udp"):
		return usageError("--replies counts datagrams: it needs -u")
	case c.Int("replies") < 0:
		return usageError("bad --replies %d: must be 1 or more", c.Int("replies"))
	case unix && (c.IsSet("4") || c.IsSet("6") || c.IsSet("numeric") || c.IsSet("port") || c.IsSet("source")):
		return usageError("-U takes a socket path: -4, -6, -n, -p and -s do not apply")
	case (c.IsSet("allow") || c.IsSet("deny")) && !listen:
		return usageError("--allow and --deny choose the clients of a listener: they need -l")
	case (c.IsSet("allow") || c.IsSet("deny")) && unix:
		return usageError("--allow and --deny match IP addresses, and Unix socket clients have none")
	case (c.IsSet("allow") || c.IsSet("deny")) && c.Bool("udp"):
		return usageError("--allow and --deny are not supported with -lu yet: a UDP listener replies to any sender")
	}
	return nil
}

func durationFlag(c *cli.Context, name string, allowNegative bool) (time.Duration, error) {
	if !c.IsSet(name) {
		return 0, nil
	}
	d, err := transport.ParseDuration(c.String(name))
	if err != nil {
		return 0, err
	}
	if d < 0 && !allowNegative {
		return 0, usageError("bad --%s %s: must not be negative", name, c.String(name))
	}
	return d, nil
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

func allowFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "allow", Category: catConn,
		Usage: "listening: serve only clients in this `CIDR` or host (repeatable, comma-separated)"}
}

func denyFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "deny", Category: catConn,
		Usage: "listening: refuse clients in this `CIDR` or host (repeatable, comma-separated)"}
}

// accessList builds --allow and --deny (nil without them). Host names are
// resolved once, now.
func accessList(ctx context.Context, c *cli.Context) (*transport.AccessList, error) {
	if !c.IsSet("allow") && !c.IsSet("deny") {
		return nil, nil
	}
	return transport.NewAccessList(ctx, c.StringSlice("allow"), c.StringSlice("deny"), c.Bool("numeric"))
}

func hexFlag() cli.Flag {
	return &cli.BoolFlag{Name: "hex", Category: catOutput, DisableDefaultText: true,
		Usage: "dump all traffic to stderr, hexdump -C style, > sent, < received"}
}

func hexFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "hex-file", Category: catOutput,
		Usage: "write the hex dump to `FILE` (created 0600) instead of stderr"}
}

// openHexLog sets up --hex / --hex-file. The dump goes to stderr, coloured
// by direction when messages are, or to a file of its own, never coloured.
func openHexLog(c *cli.Context, u *ui.UI) (*transport.HexLog, func(), error) {
	if path := c.String("hex-file"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			// Worded here, as --ca is: Explain would take the ENOENT of a
			// bad path for a missing Unix socket.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, nil, &transport.InputError{Msg: fmt.Sprintf("cannot open --hex-file %s: %v", path, err),
				Hint: "give a file in a directory that exists and that sonde may write to"}
		}
		return transport.NewHexLog(f, transport.HexColors{}), func() { f.Close() }, nil
	}
	if !c.Bool("hex") {
		return nil, func() {}, nil
	}
	colors := transport.HexColors{}
	if !color.NoColor {
		paint := func(a color.Attribute) func(string) string {
			c := color.New(a)
			return func(s string) string { return c.Sprint(s) }
		}
		colors = transport.HexColors{Sent: paint(color.FgGreen), Received: paint(color.FgCyan), Note: paint(color.Faint)}
	}
	return transport.NewHexLog(u.Writer(), colors), func() {}, nil
}
