package main

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const relayExample = "e.g. sonde relay :8080 example.com:80 or sonde relay 127.0.0.1:0 [::1]:9000"

const relayUsageText = `sonde relay [flags] LISTEN TARGET

LISTEN is [HOST]:PORT, or a bare PORT for every address; TARGET is
HOST:PORT ([::1]:80 for IPv6). Port 0 picks a free port, which is reported.
Either may be a Unix stream socket: a path starting with / or ./, an
abstract @name, or unix:PATH.
In --hex dumps, > lines went to TARGET, < lines came back from it.

EXAMPLES:
sonde relay :8080 example.com:80              forward local port 8080
sonde relay --hex 127.0.0.1:0 127.0.0.1:5432  see every byte of every connection
sonde relay -v --max-conns 10 :8080 web:80    log each connection, at most 10 at once
sonde relay 127.0.0.1:2375 /run/docker.sock   a TCP port in front of a Unix socket
sonde relay -u :5353 192.0.2.53:53            forward datagrams, a session per client`

var relayTLSUsage = tlsUsage{
	tls:      "speak TLS to TARGET (verifying it against the system roots)",
	listen:   "speak TLS to clients, with --cert/--key or an ephemeral self-signed certificate",
	insecure: "do not verify TARGET's certificate at all",
	ca:       "verify TARGET against the CA certificates in `FILE` (PEM); with --tls-listen: require client certificates they signed",
	sni:      "send and verify server `NAME` instead of TARGET's host",
	alpn:     "offer the ALPN protocols in `LIST` to TARGET, comma-separated",
	pin:      "trust only the TARGET certificate whose SPKI (or whole certificate) SHA-256 is `sha256:HEX`",
	cert:     "certificate `FILE` (PEM): with --tls-listen, the one clients get; else a client certificate for TARGET",
}

// relayCommand is `sonde relay LISTEN TARGET`: forward every client of
// LISTEN to TARGET, TCP, Unix stream or UDP, optionally dumping the traffic.
func relayCommand(env runEnv) *cli.Command {
	flags := slices.Concat(
		[]cli.Flag{
			udpFlag("relay UDP datagrams, a session per client address"),
			hidden(unixFlag("not supported by relay: write a Unix socket as a path")),
		},
		addressFlags(),
		[]cli.Flag{
			waitFlag("give up connecting to TARGET after `DUR` (e.g. 5, 500ms)"),
			idleTimeoutFlag("close a connection through which nothing moved either way for `DUR` (UDP: a session; default 60s)"),
			maxConnsFlag("refuse clients beyond `N` at once (UDP: sessions; 0: no limit)", "no limit"),
		},
		accessFlags(),
		[]cli.Flag{verboseFlag("log each connection: client, target, bytes each way (-vv: accepts, connects, datagrams)")},
		hexFlags(),
		[]cli.Flag{colorFlag()},
		tlsFlags(relayTLSUsage),
	)
	return env.newCommand("relay", "forward clients of LISTEN to TARGET (TCP or Unix; -u UDP), optionally dumping the traffic", relayUsageText, flags, runRelay)
}

func runRelay(env runEnv, c *cli.Context, u *ui.UI) error {
	if c.Bool("unix") {
		return &transport.InputError{Msg: "relay takes no -U: write a Unix socket end as a path",
			Hint: "a LISTEN or TARGET starting with / or ./, an @name, or unix:PATH is a Unix stream socket, e.g. sonde relay 127.0.0.1:2375 /run/docker.sock"}
	}
	args := c.Args().Slice()
	switch {
	case len(args) < 2:
		return &transport.InputError{Msg: "relay needs two addresses: LISTEN and TARGET", Hint: relayExample}
	case len(args) > 2:
		return &transport.InputError{Msg: fmt.Sprintf("too many arguments: %q", strings.Join(args[2:], " ")),
			Hint: "relay takes LISTEN and TARGET, each written HOST:PORT; " + relayExample}
	}
	o := &modes.RelayOptions{}
	// What is said before the relay listens waits until it does: the
	// mode's own checks (a target that is the relay itself) may still
	// refuse the command line, and that error must stand alone.
	o.OnReady = releaseOnReady(u, writeReadyFile)
	family, err := familyFlag(c)
	if err != nil {
		return err
	}
	if o.MaxConns, err = maxConnsValue(c); err != nil {
		return err
	}
	network := "tcp"
	if c.Bool("udp") {
		network = "udp"
	}
	if o.Network, err = relayEnd("LISTEN", args[0], network, &o.Listen); err != nil {
		return err
	}
	if o.TargetNetwork, err = relayEnd("TARGET", args[1], network, &o.Target); err != nil {
		return err
	}
	if o.Timeout, err = durationFlag(c, "wait", false); err != nil {
		return err
	}
	if o.IdleTimeout, err = durationFlag(c, "idle-timeout", false); err != nil {
		return err
	}
	for _, e := range []*transport.Endpoint{&o.Listen, &o.Target} {
		e.Family, e.Numeric = family, c.Bool("numeric")
	}
	if o.Network == "unix" && (c.IsSet("allow") || c.IsSet("deny")) {
		return usageError("--allow and --deny match IP addresses, and Unix socket clients have none")
	}
	if o.Access, err = accessList(env.ctx, c); err != nil {
		return err
	}
	o.UI = u
	if err := relayTLS(c, u, o); err != nil {
		return err
	}
	var closeHex func() // last: a usage error must not have emptied the file already
	if o.Hex, closeHex, err = openHexLog(c, u); err != nil {
		return err
	}
	defer closeHex()
	if exposesLocalOnly(o.Listen.Host, o.Target.Host) && !c.IsSet("allow") {
		u.Warnf("relay listens on every interface and forwards to %s, a loopback address: it exposes a local-only service to the network", args[1])
		u.Hintf("listen on 127.0.0.1 (e.g. sonde relay 127.0.0.1:%d %s), or restrict clients with --allow", o.Listen.Port, args[1])
	}
	return modes.Relay(env.ctx, o)
}

// exposesLocalOnly tells whether a relay listening on listenHost (every
// interface when empty or unspecified) toward targetHost hands the
// network a service that only this machine could reach: one on loopback.
func exposesLocalOnly(listenHost, targetHost string) bool {
	if listenHost != "" {
		ip, err := netip.ParseAddr(listenHost)
		if err != nil || !ip.IsUnspecified() {
			return false
		}
	}
	if ip, err := netip.ParseAddr(targetHost); err == nil {
		return ip.Unmap().IsLoopback()
	}
	name := strings.TrimSuffix(strings.ToLower(targetHost), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// relayTLS sets up TLS on either side. --tls and the client options
// (--insecure, --sni, --alpn, --pin) are for TARGET; --tls-listen is for
// the clients. --cert/--key and --ca go with --tls-listen when it is
// given, as on a TLS listener: the certificate clients get, and the CA
// their required certificates must be signed by; without it they are a
// client certificate for TARGET and the CA that verifies TARGET.
func relayTLS(c *cli.Context, u *ui.UI, o *modes.RelayOptions) error {
	listen := c.Bool("tls-listen")
	target := c.Bool("tls")
	for _, name := range []string{"insecure", "sni", "alpn", "pin"} {
		target = target || c.IsSet(name)
	}
	if !listen && (c.IsSet("cert") || c.IsSet("key") || c.IsSet("ca")) {
		target = true
	}
	switch {
	case !listen && !target:
		return nil
	case o.Network == "udp":
		return usageError("TLS over UDP (DTLS) is not supported: drop -u, or --tls and --tls-listen")
	}
	if err := checkClientTLS(c, !listen); err != nil {
		return err
	}
	opts := tlsOptions(c)
	if target {
		clientOpts := opts
		if listen {
			clientOpts.CertFile, clientOpts.KeyFile, clientOpts.CAFile = "", "", ""
		}
		var err error
		if o.TLSClient, err = transport.ClientTLSConfig(clientOpts, o.Target.Host); err != nil {
			return err
		}
		warnUnverified(c, u)
	}
	if listen {
		serverOpts := transport.TLSOptions{CertFile: opts.CertFile, KeyFile: opts.KeyFile, CAFile: opts.CAFile}
		var err error
		if o.TLSServer, err = listenerTLS(serverOpts, u, o.Listen.Host); err != nil {
			return err
		}
	}
	return nil
}

// relayEnd reads LISTEN or TARGET into e and returns its network:
// network ("tcp" or "udp") for HOST:PORT, "unix" for a Unix stream socket
// (see unixSocketPath).
func relayEnd(what, s, network string, e *transport.Endpoint) (string, error) {
	path, unix := unixSocketPath(s)
	switch {
	case unix && network == "udp":
		return "", &transport.InputError{Msg: fmt.Sprintf("relay -u forwards UDP datagrams, and %s %s is a Unix stream socket", what, s),
			Hint: "drop -u to relay a stream between TCP and a Unix socket"}
	case unix && path == "":
		return "", &transport.InputError{Msg: fmt.Sprintf("bad %s %q: the socket path is missing", what, s), Hint: "e.g. unix:/run/app.sock"}
	case unix:
		e.Host = path
		return "unix", nil
	}
	t, err := relayAddress(what, s, what == "LISTEN")
	if err != nil {
		return "", err
	}
	e.Host = t.Host
	e.Port, err = transport.ParsePort(t.Port, network, what == "LISTEN")
	return network, err
}

// unixSocketPath tells whether a relay end names a Unix stream socket,
// and its path: one that starts with /, ./ or ../, an abstract @name, or
// unix:PATH. Nothing else can be HOST:PORT.
func unixSocketPath(s string) (path string, ok bool) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		return p, true
	}
	for _, prefix := range []string{"/", "./", "../", "@"} {
		if strings.HasPrefix(s, prefix) {
			return s, true
		}
	}
	return "", false
}

// relayAddress reads LISTEN or TARGET: HOST:PORT or [v6]:PORT; LISTEN may
// also be :PORT or a bare PORT (every address).
func relayAddress(what, s string, listen bool) (transport.Target, error) {
	hint := "TARGET is HOST:PORT, e.g. example.com:80, 127.0.0.1:8080 or [::1]:8080"
	if listen {
		hint = "LISTEN is [HOST]:PORT or PORT, e.g. :8080, 127.0.0.1:8080, [::1]:8080 or 8080"
		if s != "" && strings.Trim(s, "0123456789") == "" {
			s = ":" + s
		}
	}
	if _, _, err := net.SplitHostPort(s); err != nil || strings.HasSuffix(s, ":") {
		return transport.Target{}, &transport.InputError{Msg: fmt.Sprintf("bad %s %q: want HOST:PORT", what, s), Hint: hint}
	}
	t, err := transport.SplitHostPort(s)
	if err != nil {
		return t, err
	}
	if !listen && t.Host == "" {
		return t, &transport.InputError{Msg: fmt.Sprintf("bad %s %q: the host is missing", what, s), Hint: hint}
	}
	return t, nil
}
