package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
)

// proxyFlags are -x, -X and --proxy-auth (connect only).
func proxyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "proxy", Aliases: []string{"x"}, Category: catConn,
			Usage: "connect through the proxy at `ADDR[:PORT]` (default port 1080, 3128 for -X connect)"},
		&cli.StringFlag{Name: "proxy-type", Aliases: []string{"X"}, Category: catConn,
			Usage: "proxy protocol `5|4|connect`: SOCKS5 (default), SOCKS4 (4a for names), HTTP CONNECT"},
		&cli.StringFlag{Name: "proxy-auth", Category: catConn,
			Usage: "proxy credentials `USER:PASS` (SOCKS5 user/password, HTTP Basic; -X 4: USER alone)"},
	}
}

// checkProxy rejects proxy flags that cannot apply, and bad values, before
// any socket is opened.
func checkProxy(c *cli.Context, listen bool) error {
	if !c.IsSet("proxy") {
		switch {
		case c.IsSet("proxy-type"):
			return usageError("-X needs -x: give the proxy's address too")
		case c.IsSet("proxy-auth"):
			return usageError("--proxy-auth needs -x: give the proxy's address too")
		}
		return nil
	}
	const hint = "a proxy carries TCP connections made by sonde; drop -x"
	switch {
	case listen:
		return &transport.InputError{Msg: "-x cannot be combined with -l: proxies carry outgoing connections only", Hint: hint}
	case c.Bool("udp"):
		return &transport.InputError{Msg: "-x cannot be combined with -u: sonde's proxies carry TCP only", Hint: hint}
	case c.Bool("unix"):
		return &transport.InputError{Msg: "-x cannot be combined with -U", Hint: hint}
	case c.Bool("zero"):
		return &transport.InputError{Msg: "-x cannot be combined with -z: scans do not go through proxies", Hint: hint}
	}
	if c.IsSet("proxy-type") {
		if _, err := transport.ParseProxyType(c.String("proxy-type")); err != nil {
			return err
		}
	}
	if c.IsSet("proxy-auth") && c.String("proxy-auth") == "" {
		_, _, err := transport.ParseProxyAuth("", "")
		return err
	}
	_, err := transport.ParseProxy(c.String("proxy"), c.String("proxy-type"), c.String("proxy-auth"))
	return err
}
