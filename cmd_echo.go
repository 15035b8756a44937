package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// echoCommand is `sonde echo [HOST] PORT`: an RFC 862 echo server.
func echoCommand(env runEnv) *cli.Command {
	return &cli.Command{
		Name:            "echo",
		Usage:           "serve RFC 862 echo on [HOST] PORT (TCP; -u UDP; -U PATH)",
		UsageText:       "sonde echo [flags] [HOST] PORT\n\nexamples:\n   sonde echo 7000                 echo over TCP on every address\n   sonde echo -u 127.0.0.1 7000    echo datagrams\n   sonde echo -v --delay 200ms 7000  a slow echo, logging each client",
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "udp", Aliases: []string{"u"}, Category: catMode, DisableDefaultText: true, Usage: "echo UDP datagrams"},
			&cli.BoolFlag{Name: "unix", Aliases: []string{"U"}, Category: catMode, DisableDefaultText: true, Usage: "echo on a Unix-domain socket: the argument is a path"},
			&cli.BoolFlag{Name: "4", Category: catConn, DisableDefaultText: true, Usage: "IPv4 only"},
			&cli.BoolFlag{Name: "6", Category: catConn, DisableDefaultText: true, Usage: "IPv6 only"},
			&cli.BoolFlag{Name: "numeric", Aliases: []string{"n"}, Category: catConn, DisableDefaultText: true, Usage: "numeric addresses only, never ask DNS"},
			&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Category: catConn, Usage: "port to listen on"},
			&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Category: catConn, Usage: "address to listen on"},
			&cli.IntFlag{Name: "max-conns", Category: catConn, Usage: "close clients beyond this many at once (0: no limit)"},
			allowFlag(), denyFlag(),
			&cli.StringFlag{Name: "idle-timeout", Category: catConn, Usage: "close a client that sends nothing for this long"},
			&cli.StringFlag{Name: "delay", Category: catData, Usage: "wait this long before echoing each read or datagram"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Category: catOutput, DisableDefaultText: true, Usage: "log each client (-vv: each datagram, -vvv: each read)"},
			hexFlag(), hexFileFlag(),
			&cli.StringFlag{Name: "color", Category: catOutput, Value: "auto", Usage: "colour messages: auto, always or never"},
		}, tlsFlags()...),
		Action: func(c *cli.Context) error {
			return runEcho(env.ctx, c, env.stderr)
		},
	}
}

func runEcho(ctx context.Context, c *cli.Context, stderr io.Writer) error {
	if err := applyColor(c, stderr); err != nil {
		return err
	}
	u := ui.New(stderr, c.Count("verbose"))
	o := &modes.EchoOptions{MaxConns: c.Int("max-conns")}
	o.UI = u
	o.OnReady = writeReadyFile
	o.Numeric = c.Bool("numeric")
	switch {
	case c.Bool("4") && c.Bool("6"):
		return usageError("-4 and -6 cannot be combined")
	case c.Bool("4"):
		o.Family = 4
	case c.Bool("6"):
		o.Family = 6
	}
	if o.MaxConns < 0 {
		return usageError("bad --max-conns %d: must be 0 (no limit) or more", o.MaxConns)
	}
	var err error
	if o.IdleTimeout, err = durationFlag(c, "idle-timeout", false); err != nil {
		return err
	}
	if o.Delay, err = durationFlag(c, "delay", false); err != nil {
		return err
	}
	unix, udp := c.Bool("unix"), c.Bool("udp")
	o.Network = "tcp"
	switch {
	case unix && udp:
		o.Network = "unixgram"
	case unix:
		o.Network = "unix"
	case udp:
		o.Network = "udp"
	}
	if unix && (c.IsSet("allow") || c.IsSet("deny")) {
		return usageError("--allow and --deny match IP addresses, and Unix socket clients have none")
	}
	if o.Access, err = accessList(ctx, c); err != nil {
		return err
	}
	args := c.Args().Slice()
	if unix {
		if len(args) != 1 || c.IsSet("port") || c.IsSet("source") {
			return &transport.InputError{Msg: "-U takes one socket path", Hint: "e.g. sonde echo -U /tmp/echo.sock"}
		}
		o.Target = transport.Target{Host: args[0]}
	} else {
		if o.Target, err = transport.SplitTarget(args, c.String("port"), true); err != nil {
			return err
		}
		if _, err := transport.ParsePort(o.Target.Port, o.Network, true); err != nil {
			return err
		}
		source, err := transport.ParseHost(c.String("source"))
		if err != nil {
			return err
		}
		if source != "" {
			if o.Target.Host != "" && o.Target.Host != source {
				return usageError("the listen address is given twice: -s %s and %s", source, o.Target.Host)
			}
			o.Target.Host = source
		}
	}
	hex, closeHex, err := openHexLog(c, u)
	if err != nil {
		return err
	}
	defer closeHex()
	o.Hex = hex
	if o.TLSServer, err = serverTLSConfig(c, u, o.Target.Host, udp); err != nil {
		return err
	}
	return modes.Echo(ctx, o)
}
