package main

import (
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const echoUsageText = `sonde echo [flags] [HOST] PORT

Sends back whatever each client sends (RFC 862), to any number of clients
at once, until interrupted. Port 0 picks a free port, which is reported.

EXAMPLES:
sonde echo 7000                            echo over TCP on every address
sonde echo -u 127.0.0.1 7000               echo datagrams
sonde echo -v --delay 200ms 7000           a slow echo, logging each client`

// echoCommand is `sonde echo [HOST] PORT`: an RFC 862 echo server.
func echoCommand(env runEnv) *cli.Command {
	flags := slices.Concat(
		[]cli.Flag{
			udpFlag("echo UDP datagrams"),
			unixFlag("echo on a Unix-domain socket: the argument is a path"),
		},
		addressFlags(),
		[]cli.Flag{
			portFlag("`PORT` to listen on"),
			sourceFlag("`ADDR` to listen on"),
			maxConnsFlag("close clients beyond `N` at once (0: no limit)", "no limit"),
		},
		accessFlags(),
		[]cli.Flag{
			allowUIDFlag(),
			idleTimeoutFlag("close a client that sends nothing for `DUR`"),
			delayFlag(),
			verboseFlag("log each client (-vv: each datagram, -vvv: each read)"),
		},
		hexFlags(),
		[]cli.Flag{colorFlag()},
		tlsFlags(sessionTLS),
	)
	return env.newCommand("echo", "serve RFC 862 echo on [HOST] PORT (TCP; -u UDP; -U PATH)", echoUsageText, flags, runEcho)
}

func runEcho(env runEnv, c *cli.Context, u *ui.UI) error {
	o := &modes.EchoOptions{}
	o.UI = u
	o.OnReady = releaseOnReady(u, writeReadyFile) // a late usage error stands alone
	o.Listen.Numeric = c.Bool("numeric")
	var err error
	if o.Listen.Family, err = familyFlag(c); err != nil {
		return err
	}
	if o.MaxConns, err = maxConnsValue(c); err != nil {
		return err
	}
	if o.IdleTimeout, err = durationFlag(c, "idle-timeout", false); err != nil {
		return err
	}
	if o.Delay, err = durationFlag(c, "delay", false); err != nil {
		return err
	}
	o.Network = networkFlag(c)
	unix := c.Bool("unix")
	if unix && (c.IsSet("allow") || c.IsSet("deny")) {
		return usageError("--allow and --deny match IP addresses, and Unix socket clients have none")
	}
	if err := checkAllowUID(c, true, unix); err != nil {
		return err
	}
	if o.Access, err = accessList(env.ctx, c); err != nil {
		return err
	}
	if unix {
		o.Listen.Host, err = unixPath(c, "e.g. sonde echo -U /tmp/echo.sock")
	} else {
		err = listenAddress(c, &o.Listen, o.Network)
	}
	if err != nil {
		return err
	}
	if o.TLSServer, err = serverTLSConfig(c, u, o.Listen.Host, c.Bool("udp")); err != nil {
		return err
	}
	var closeHex func() // last: a usage error must not have emptied the file already
	if o.Hex, closeHex, err = openHexLog(c, u); err != nil {
		return err
	}
	defer closeHex()
	return modes.Echo(env.ctx, o)
}

// listenAddress reads the [HOST] PORT of an echo server, or -p and -s,
// into e.
func listenAddress(c *cli.Context, e *transport.Endpoint, network string) error {
	t, err := transport.SplitTarget(c.Args().Slice(), c.String("port"), true)
	if err != nil {
		return err
	}
	if e.Port, err = transport.ParsePort(t.Port, network, true); err != nil {
		return err
	}
	source, err := transport.ParseHost(c.String("source"))
	if err != nil {
		return err
	}
	e.Host, err = listenHost(t.Host, source)
	return err
}
