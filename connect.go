package main

// connect and listen: the root action (sonde HOST PORT, sonde -l PORT) and
// its two explicit spellings, sonde connect and sonde listen.

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// flagList builds the flags of the root, connect and listen. Each gets its
// own copy, since urfave/cli keeps parse state in the flag values.
func flagList() []cli.Flag {
	return slices.Concat(
		[]cli.Flag{
			listenFlag(),
			udpFlag("use UDP (with -U: Unix datagram sockets)"),
			unixFlag("use a Unix-domain socket: HOST is a path (@name: Linux abstract)"),
			keepOpenFlag(),
			zeroFlag(),
		},
		addressFlags(),
		[]cli.Flag{
			withAlias(portFlag("source `PORT` (connect), or the port to listen on (-l)"), "source-port"), // ncat's name
			sourceFlag("source `ADDR` (connect), or the address to listen on (-l)"),
			waitFlag("give up connecting, and close an idle session, after `DUR` (e.g. 5, 500ms)"),
		},
		stdinEOFFlags(),
		[]cli.Flag{maxConnsFlag("with -lk: refuse clients beyond `N` at once (0: no limit)", fmt.Sprintf("no limit; %d with -e/-c", modes.ExecMaxConns))},
		accessFlags(), []cli.Flag{allowUIDFlag()},
		sessionDataFlags(),
		[]cli.Flag{verboseFlag("report progress on stderr (-vv: more detail)")},
		hexFlags(),
		[]cli.Flag{progressFlag(), colorFlag()},
		tlsFlags(sessionTLS), proxyFlags(), execFlags(),
	)
}

// listenOnly and connectOnly are the flags of the root that only a
// listener, or only a connect, takes. sonde connect and sonde listen keep
// them out of their --help but still accept them, to say why they do not
// apply ("-k needs -l") rather than call them unknown.
var (
	listenOnly  = []string{"listen", "keep-open", "max-conns", "allow", "deny"}
	connectOnly = []string{"listen", "zero", "proxy", "proxy-type", "proxy-auth", "insecure", "sni", "pin"}
)

// connectCommand is sonde connect or sonde listen: the root action under
// an explicit name.
func connectCommand(env runEnv, listen bool) *cli.Command {
	name, usage, text, hide := "connect", "connect to HOST PORT (the default mode)", connectUsageText, listenOnly
	if listen {
		name, usage, text, hide = "listen", "listen on [HOST] PORT (same as -l)", listenUsageText, connectOnly
	}
	return env.newCommand(name, usage, text, hideFlags(flagList(), hide...),
		func(env runEnv, c *cli.Context, u *ui.UI) error { return connect(env, c, u, listen) })
}

const connectUsageText = `sonde connect [flags] HOST PORT

Connects to HOST PORT (TCP; -u UDP; -U PATH for a Unix socket) and copies
stdin to the socket and the socket to stdout, as sonde HOST PORT does.
HOST PORT may be written HOST:PORT ([::1]:80 for IPv6).

EXAMPLES:
sonde connect example.com 80               talk to a port by hand
sonde connect -x proxy:1080 db.internal 5432  through a SOCKS5 proxy
sonde connect --tls example.com 443        speak TLS
`

const listenUsageText = `sonde listen [flags] [HOST] PORT

Waits for one client on PORT (every address, or HOST's) and copies stdin
to it and what it sends to stdout, as sonde -l does; -k serves clients
until interrupted. Port 0 picks a free port, which is reported.

EXAMPLES:
sonde listen 4444                          one client on port 4444
sonde listen -k --allow 10.0.0.0/8 9000    many clients, from 10/8 only
sonde listen -U /tmp/app.sock              a Unix socket
`

// connect turns parsed flags into modes.Options, checks misuse before
// touching the network, and connects or listens.
func connect(env runEnv, c *cli.Context, u *ui.UI, listen bool) error {
	proxy, err := proxyFlag(c, listen)
	if err != nil {
		return err
	}
	if err := checkExec(c); err != nil {
		return err
	}
	if c.Bool("zero") {
		return zeroScan(env, c, u, listen)
	}
	if c.Command != nil && c.Command.Name == "connect" && c.Bool("listen") {
		return usageError("connect cannot be combined with -l")
	}
	// What is said until the command line has passed every check (the
	// --insecure and -e warnings, certificate lines) waits, so that a
	// usage error found late stands alone: until the listener is ready,
	// or until the connect starts.
	u.Hold()
	source, err := transport.ParseHost(c.String("source"))
	if err != nil {
		return err
	}
	o, err := sessionOptions(env, c, u, listen)
	if err != nil {
		return err
	}
	o.OnReady = releaseOnReady(u, o.OnReady)
	o.Proxy = proxy
	if err := applyExec(c, o, listen, u, env.stderr); err != nil {
		return err
	}
	if o.Keep && o.Exec != nil && !c.IsSet("max-conns") {
		o.MaxConns = modes.ExecMaxConns // a process per client: bounded unless asked otherwise
	}
	if err := endpointOptions(c, u, o, source, listen); err != nil {
		return err
	}
	// Last: a usage error must not have emptied the file already.
	hex, closeHex, err := openHexLog(c, u)
	if err != nil {
		return err
	}
	defer closeHex()
	o.Hex = hex
	if listen {
		return modes.Listen(env.ctx, o)
	}
	u.Release()
	return modes.Connect(env.ctx, o)
}

// endpointOptions reads what only one end uses: the listen address and
// server TLS, or the source address and port and client TLS.
func endpointOptions(c *cli.Context, u *ui.UI, o *modes.Options, source string, listen bool) (err error) {
	udp := c.Bool("udp")
	if listen {
		if o.Listen.Host, err = listenHost(o.Listen.Host, source); err != nil {
			return err
		}
		o.TLSServer, err = serverTLSConfig(c, u, o.Listen.Host, udp)
		return err
	}
	o.Target.Source = source
	if c.IsSet("port") {
		if o.SourcePort, err = transport.ParsePort(c.String("port"), o.Network, false); err != nil {
			return err
		}
	}
	o.TLSClient, err = clientTLSConfig(c, u, o.Target.Host, udp)
	return err
}

// sessionOptions reads what connect and listen share: the socket, the
// data flags, the timeouts and the address (o.Listen with -l, else
// o.Target).
func sessionOptions(env runEnv, c *cli.Context, u *ui.UI, listen bool) (*modes.Options, error) {
	o := &modes.Options{
		Server: modes.Server{
			Network:  networkFlag(c),
			MaxConns: c.Int("max-conns"),
			UI:       u,
			OnReady:  writeReadyFile,
		},
		Progress:        c.Bool("progress"),
		ProgressInPlace: isTerminalWriter(env.stderr),
		NoStdin:         c.Bool("no-stdin") || c.Bool("recv-only"),
		SendOnly:        c.Bool("send-only"),
		CRLF:            c.Bool("crlf"),
		NoShutdown:      c.Bool("no-shutdown"),
		Replies:         c.Int("replies"),
		Keep:            c.Bool("keep-open"),
		Stdin:           env.stdin,
		Stdout:          env.stdout,
		Interactive:     isTerminal(env.stdin),
	}
	if o.Progress && o.ProgressInPlace {
		// The bytes received and the echo of what is typed share the
		// screen with the status line.
		if isTerminalWriter(env.stdout) {
			o.Stdout = u.StatusOutput(env.stdout)
		}
		if o.Interactive {
			o.Stdin = u.StatusInput(env.stdin)
		}
	}
	unix := c.Bool("unix")
	if err := checkMisuse(c, listen, unix); err != nil {
		return nil, err
	}
	var err error
	if o.Access, err = accessList(env.ctx, c); err != nil {
		return nil, err
	}
	e := transport.Endpoint{Numeric: c.Bool("numeric")}
	if e.Family, err = familyFlag(c); err != nil {
		return nil, err
	}
	if o.Timeout, err = durationFlag(c, "wait", false); err != nil {
		return nil, err
	}
	if o.Interval, err = durationFlag(c, "interval", false); err != nil {
		return nil, err
	}
	if c.IsSet("quit") {
		o.QuitSet = true
		if o.Quit, err = durationFlag(c, "quit", true); err != nil {
			return nil, err
		}
	}
	if unix {
		if e.Host, err = unixPath(c, "e.g. sonde -U /tmp/app.sock or sonde -lU /tmp/app.sock"); err != nil {
			return nil, err
		}
	} else {
		portFlag := ""
		if listen {
			portFlag = c.String("port")
		}
		t, err := transport.SplitTarget(c.Args().Slice(), portFlag, listen)
		if err != nil {
			return nil, err
		}
		e.Host = t.Host
		if e.Port, err = transport.ParsePort(t.Port, o.Network, listen); err != nil {
			return nil, err
		}
	}
	if listen {
		o.Listen = e
	} else {
		o.Target = e
	}
	return o, nil
}

// checkMisuse rejects flag combinations that cannot mean anything, before
// any socket is opened.
func checkMisuse(c *cli.Context, listen, unix bool) error {
	if _, err := familyFlag(c); err != nil {
		return err
	}
	both := func(a, b string) bool { return c.IsSet(a) && c.IsSet(b) }
	switch {
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
	}
	if _, err := maxConnsValue(c); err != nil {
		return err
	}
	switch {
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
	case c.IsSet("max-conns") && c.Bool("udp"):
		return usageError("--max-conns counts connections: a UDP listener has none (-k makes it hear every sender)")
	}
	return checkAllowUID(c, listen, unix)
}

// zeroScan is `sonde -z HOST PORTS`: the root action's misuse checks of
// -z, then the scan command's engine (runScan) with netcat's output.
func zeroScan(env runEnv, c *cli.Context, u *ui.UI, listen bool) error {
	if listen {
		return &transport.InputError{Msg: "-z cannot be combined with -l",
			Hint: "-z scans the ports of a host; drop -l to scan, or -z to listen"}
	}
	for _, f := range []struct{ name, spelled string }{{"keep-open", "-k"}, {"unix", "-U"}, {"port", "-p"},
		{"hex", "--hex"}, {"hex-file", "--hex-file"}, {"progress", "--progress"}, {"send-only", "--send-only"},
		{"recv-only", "--recv-only"}, {"replies", "--replies"}, {"max-conns", "--max-conns"}, {"crlf", "-C"},
		{"quit", "-q"}, {"no-shutdown", "--no-shutdown"}} {
		if c.IsSet(f.name) {
			return &transport.InputError{Msg: fmt.Sprintf("-z cannot be combined with %s: a scan sends no data", f.spelled),
				Hint: "sonde -z HOST PORTS takes -u, -4, -6, -n, -s, -w, -i and -v"}
		}
	}
	return runScan(env, c, u, modes.ScanNetcat)
}
