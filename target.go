package main

// The addresses a command is given on its command line, read the same way
// by every command that takes them.

import (
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
)

// unixPath reads the one socket path of -U; hint shows the command's own
// spelling.
func unixPath(c *cli.Context, hint string) (string, error) {
	args := c.Args().Slice()
	if len(args) != 1 || c.IsSet("port") || c.IsSet("source") {
		return "", &transport.InputError{Msg: "-U takes one socket path", Hint: hint}
	}
	return args[0], nil
}

// listenHost is the address a listener binds: HOST, or -s, which may
// repeat HOST but not contradict it.
func listenHost(host, source string) (string, error) {
	if source == "" {
		return host, nil
	}
	if host != "" && host != source {
		return "", usageError("the listen address is given twice: -s %s and %s", source, host)
	}
	return source, nil
}

// probeTarget reads the HOST PORT of ping and wait into e. A missing host
// is an error now, with the command's own wording (missing), rather than a
// failure at every probe.
func probeTarget(c *cli.Context, e *transport.Endpoint, network string, missing *transport.InputError) error {
	t, err := transport.SplitTarget(c.Args().Slice(), "", false)
	if err != nil {
		return err
	}
	if t.Host == "" {
		return missing
	}
	e.Host = t.Host
	e.Port, err = transport.ParsePort(t.Port, network, false)
	return err
}
