package main

// The proxy (-x, -X, --proxy-auth) and the program (-e, -c) of a connect
// or listen: read and checked before any socket is opened, then put in its
// options.

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// proxyFlag reads -x, -X and --proxy-auth (nil without -x), and rejects
// proxy flags that cannot apply, and bad values, before any socket is
// opened.
func proxyFlag(c *cli.Context, listen bool) (*transport.Proxy, error) {
	if !c.IsSet("proxy") {
		switch {
		case c.IsSet("proxy-type"):
			return nil, usageError("-X needs -x: give the proxy's address too")
		case c.IsSet("proxy-auth"):
			return nil, usageError("--proxy-auth needs -x: give the proxy's address too")
		}
		return nil, nil
	}
	const hint = "a proxy carries TCP connections made by sonde; drop -x"
	switch {
	case listen:
		return nil, &transport.InputError{Msg: "-x cannot be combined with -l: proxies carry outgoing connections only", Hint: hint}
	case c.Bool("udp"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -u: sonde's proxies carry TCP only", Hint: hint}
	case c.Bool("unix"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -U", Hint: hint}
	case c.Bool("zero"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -z: scans do not go through proxies", Hint: hint}
	}
	if c.IsSet("proxy-type") {
		if _, err := transport.ParseProxyType(c.String("proxy-type")); err != nil {
			return nil, err
		}
	}
	if c.IsSet("proxy-auth") && c.String("proxy-auth") == "" {
		_, _, err := transport.ParseProxyAuth("", "")
		return nil, err
	}
	return transport.ParseProxy(c.String("proxy"), c.String("proxy-type"), c.String("proxy-auth"))
}

// execFlag names the exec flag given ("-e" or "-c"), or "".
func execFlag(c *cli.Context) string {
	switch {
	case c.IsSet("exec"):
		return "-e"
	case c.IsSet("sh-exec"):
		return "-c"
	}
	return ""
}

// checkExec rejects -e / -c where a program cannot take stdin's and
// stdout's place, before any socket is opened.
func checkExec(c *cli.Context) error {
	flag := execFlag(c)
	if flag == "" {
		return nil
	}
	const hint = "the program's output is what sonde sends, and what arrives is its input"
	switch {
	case c.IsSet("exec") && c.IsSet("sh-exec"):
		return &transport.InputError{Msg: "-e and -c cannot be combined: give one program", Hint: "-e runs a program directly, -c runs a shell command"}
	case c.Bool("udp"):
		return &transport.InputError{Msg: flag + " is not supported with -u", Hint: "a program is connected to one stream; use TCP or -U"}
	case c.Bool("zero"):
		return usageError("%s cannot be combined with -z: a scan sends no data", flag)
	case c.IsSet("no-stdin"):
		return &transport.InputError{Msg: flag + " cannot be combined with -d", Hint: hint}
	case c.IsSet("send-only"):
		return &transport.InputError{Msg: flag + " cannot be combined with --send-only", Hint: hint}
	case c.IsSet("recv-only"):
		return &transport.InputError{Msg: flag + " cannot be combined with --recv-only", Hint: hint}
	}
	_, err := parseExec(c)
	return err
}

func parseExec(c *cli.Context) (*modes.Exec, error) {
	switch execFlag(c) {
	case "-e":
		return modes.ParseExec(c.String("exec"))
	case "-c":
		return modes.ShellExec(c.String("sh-exec"))
	}
	return nil, nil
}

// applyExec fills in the program of a connect or listen whose flags
// checkExec has passed. A listener that runs a program for anyone who
// connects says so, unless --allow limits who can.
func applyExec(c *cli.Context, o *modes.Options, listen bool, u *ui.UI, stderr io.Writer) error {
	x, err := parseExec(c)
	if err != nil || x == nil {
		return err
	}
	x.Stderr = stderr
	o.Exec = x
	if listen && !c.IsSet("allow") {
		u.Warnf("%s on a listener runs %s for anyone who connects; restrict with --allow", execFlag(c), x.Name)
	}
	return nil
}
