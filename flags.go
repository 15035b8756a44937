package main

// The flag catalogue: every flag sonde knows is defined here once, grouped
// by the category --help shows it under, and each command picks its own
// from it. urfave/cli keeps parse state in the flag values, so the
// catalogue hands out constructors, and every command gets fresh flags.
// Where a flag means something a little different to one command (-w is
// the connect timeout of connect but the time a probe may take in ping),
// the constructor takes the command's wording of the usage line.
// The readers that turn these flags into typed values are in flagvalues.go.

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"
)

const (
	catMode   = "Mode"
	catConn   = "Connection"
	catData   = "Data"
	catTLS    = "TLS"
	catOutput = "Output"
)

func boolFlag(name, alias, category, usage string) *cli.BoolFlag {
	f := &cli.BoolFlag{Name: name, Category: category, DisableDefaultText: true, Usage: usage}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func stringFlag(name, alias, category, usage string) *cli.StringFlag {
	f := &cli.StringFlag{Name: name, Category: category, Usage: usage}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func intFlag(name, alias string, value int, usage string) *cli.IntFlag {
	f := &cli.IntFlag{Name: name, Category: catConn, Value: value, Usage: usage}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

// hidden keeps a flag out of --help, for one a command accepts only to
// explain that it does not support it.
func hidden(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.BoolFlag:
		f.Hidden = true
	case *cli.StringFlag:
		f.Hidden = true
	case *cli.IntFlag:
		f.Hidden = true
	case *cli.StringSliceFlag:
		f.Hidden = true
	default:
		panic(fmt.Sprintf("hidden: flag type %T", f))
	}
	return f
}

// withAlias adds another name to a string flag (ncat's spelling).
func withAlias(f cli.Flag, alias string) cli.Flag {
	s := f.(*cli.StringFlag)
	s.Aliases = append(s.Aliases, alias)
	return s
}

// flagNames is f.Names() read straight from the flag: urfave/cli's
// Names() passes each name through a regular expression (to cut off a
// v1-style "name, alias"), and a start-up that asks for every name of
// every flag paid for it. sonde's names hold no comma or space, so the
// two agree (TestFlagNamesDirect).
func flagNames(f cli.Flag) []string {
	switch f := f.(type) {
	case *cli.BoolFlag:
		return append([]string{f.Name}, f.Aliases...)
	case *cli.StringFlag:
		return append([]string{f.Name}, f.Aliases...)
	case *cli.IntFlag:
		return append([]string{f.Name}, f.Aliases...)
	case *cli.StringSliceFlag:
		return append([]string{f.Name}, f.Aliases...)
	}
	return f.Names()
}

// hideFlags hides the flags of names among flags (see hidden).
func hideFlags(flags []cli.Flag, names ...string) []cli.Flag {
	for _, f := range flags {
		if slices.Contains(names, flagName(f)) {
			hidden(f)
		}
	}
	return flags
}

// Mode: what kind of socket, and which way.

func listenFlag() cli.Flag {
	return boolFlag("listen", "l", catMode, "listen for a client instead of connecting (-p may give the port)")
}

func udpFlag(usage string) *cli.BoolFlag { return boolFlag("udp", "u", catMode, usage) }

func unixFlag(usage string) *cli.BoolFlag {
	f := boolFlag("unix", "U", catMode, usage)
	f.Aliases = append(f.Aliases, "unixsock") // ncat's name
	return f
}

func keepOpenFlag() cli.Flag {
	return boolFlag("keep-open", "k", catMode, "with -l: keep listening, serve clients concurrently (with -u: hear every sender)")
}

func zeroFlag() cli.Flag {
	return boolFlag("zero", "z", catMode, "scan HOST PORTS without sending data: only the exit status tells (-v: every port); see sonde scan")
}

func echoProbeFlag() cli.Flag {
	return boolFlag("echo", "", catMode, "time a small payload's round trip over one TCP connection to an echo server")
}

// Connection: addresses, ports, timeouts, limits and proxies.

// familyFlags are -4 and -6; familyFlag reads them.
func familyFlags() []cli.Flag {
	return []cli.Flag{boolFlag("4", "", catConn, "IPv4 only"), boolFlag("6", "", catConn, "IPv6 only")}
}

func numericFlag() cli.Flag {
	f := boolFlag("numeric", "n", catConn, "numeric addresses only, never ask DNS")
	f.Aliases = append(f.Aliases, "nodns") // ncat's name
	return f
}

// addressFlags are -4, -6 and -n, which every command that resolves names takes.
func addressFlags() []cli.Flag { return append(familyFlags(), numericFlag()) }

// probeFlags are the address flags scan, wait and ping share with connect.
func probeFlags() []cli.Flag {
	return append(addressFlags(), sourceFlag("source `ADDR` of the probes"))
}

func portFlag(usage string) cli.Flag { return stringFlag("port", "p", catConn, usage) }

func sourceFlag(usage string) cli.Flag { return stringFlag("source", "s", catConn, usage) }

func waitFlag(usage string) cli.Flag { return stringFlag("wait", "w", catConn, usage) }

// stdinEOFFlags are -q, -N and --no-shutdown: what connect and listen do
// once stdin ends.
func stdinEOFFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("quit", "q", catConn, "after stdin ends, quit after `DUR` (negative: never; UDP default 1s)"),
		boolFlag("shutdown", "N", catConn, "accepted for nc compatibility: sonde half-closes on stdin EOF by default"),
		boolFlag("no-shutdown", "", catConn, "keep the write side open after stdin ends (for servers that treat FIN as abort)"),
	}
}

func idleTimeoutFlag(usage string) cli.Flag { return stringFlag("idle-timeout", "", catConn, usage) }

// maxConnsFlag is --max-conns, whose default (0) means no limit, said
// as defaultText.
func maxConnsFlag(usage, defaultText string) cli.Flag {
	f := intFlag("max-conns", "", 0, usage)
	f.DefaultText = defaultText
	return f
}

// accessFlags are --allow and --deny; accessList reads them.
func accessFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "allow", Category: catConn,
			Usage: "listening: serve only clients (UDP: senders) in this `CIDR` or host (repeatable, comma-separated)"},
		&cli.StringSliceFlag{Name: "deny", Category: catConn,
			Usage: "listening: refuse clients in this `CIDR` or host (repeatable, comma-separated)"},
	}
}

// allowUIDFlag is --allow-uid, for the listeners that take -U; accessList
// reads it with --allow and --deny, checkAllowUID where it applies.
func allowUIDFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "allow-uid", Category: catConn,
		Usage: "Unix listener (-lU): serve only clients running as user id `UID` (repeatable, comma-separated; Linux)"}
}

func countFlag() cli.Flag {
	return &cli.IntFlag{Name: "count", Aliases: []string{"c"}, Category: catConn, DefaultText: "until interrupted",
		Usage: "stop after `N` probes"}
}

func concurrencyFlag(value int) cli.Flag {
	return intFlag("concurrency", "", value, "probe `N` ports at once (fewer if the open-file limit is lower)")
}

func retriesFlag(value int) cli.Flag {
	return intFlag("retries", "", value,
		"probe a silent port `N` more times, each for -w, before calling it filtered (-u: open|filtered)")
}

func maxHopsFlag(value int) cli.Flag {
	return intFlag("max-hops", "m", value, "probe with TTLs (IPv6: hop limits) up to `N`")
}

func probesFlag(value int) cli.Flag {
	return intFlag("probes", "", value, "send `N` probes with each TTL")
}

func maxHostsFlag(value int) cli.Flag {
	return intFlag("max-hosts", "", value,
		"probe at most `N` addresses (a CIDR block counts each of its addresses, a name one)")
}

// targetsFlag is --targets of scan; readLines opens what it names.
func targetsFlag() cli.Flag {
	return stringFlag("targets", "", catConn, "scan the targets listed in `FILE` (- for stdin): HOST, HOST PORTS or HOST:PORT a line")
}

func timeoutFlag(usage string) cli.Flag { return stringFlag("timeout", "", catConn, usage) }

// proxyFlags are -x, -X, --proxy-auth and --proxy-auth-file (connect
// only); SONDE_PROXY_AUTH stands in for the last two.
func proxyFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("proxy", "x", catConn, "connect through the proxy at `ADDR[:PORT]` (default port 1080, 3128 for -X connect)"),
		stringFlag("proxy-type", "X", catConn, "proxy protocol `5|4|connect`: SOCKS5 (default), SOCKS4 (4a for names), HTTP CONNECT"),
		stringFlag("proxy-auth", "", catConn, "proxy credentials `USER:PASS` (SOCKS5 user/password, HTTP Basic; -X 4: USER alone); visible in ps: prefer --proxy-auth-file or $SONDE_PROXY_AUTH"),
		stringFlag("proxy-auth-file", "", catConn, "read the proxy credentials from the first line of `FILE` (mode 0600 or stricter)"),
	}
}

// Data: what is read from stdin, and how it is sent.

func intervalFlag(category, usage string) cli.Flag {
	return stringFlag("interval", "i", category, usage)
}

// sessionDataFlags are what connect and listen do with stdin and with what
// arrives.
func sessionDataFlags() []cli.Flag {
	return []cli.Flag{
		boolFlag("no-stdin", "d", catData, "do not read stdin"),
		boolFlag("crlf", "C", catData, "send CRLF for each LF read from stdin"),
		intervalFlag(catData, "pause `DUR` after each line sent"),
		boolFlag("send-only", "", catData, "only send: discard what arrives"),
		boolFlag("recv-only", "", catData, "only receive: never read stdin (same as -d)"),
		&cli.IntFlag{Name: "replies", Category: catData, DefaultText: "none", Usage: "UDP: exit after `N` datagrams have arrived; exit 1 if the session ends with fewer"},
	}
}

func delayFlag() cli.Flag {
	return stringFlag("delay", "", catData, "wait `DUR` before echoing each read or datagram")
}

// execFlags are -e and -c (connect and listen).
func execFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("exec", "e", catData, "connect the socket to `PROG`'s stdin and stdout (split at spaces, no shell)"),
		stringFlag("sh-exec", "c", catData, "connect the socket to shell command `CMD` (/bin/sh -c; cmd /c on Windows)"),
	}
}

// TLS: the --tls family.

// tlsUsage words the TLS flags for one command. Relay speaks of TARGET,
// and only relay has --tls-listen (listen is "" elsewhere).
type tlsUsage struct {
	tls, listen, insecure, ca, sni, alpn, pin, cert string
}

// sessionTLS is the wording of connect, listen and echo.
var sessionTLS = tlsUsage{
	tls:      "speak TLS (verifying the server against the system roots)",
	insecure: "TLS client: do not verify the server's certificate at all",
	ca:       "trust the CA certificates in `FILE` (PEM); on a listener: require client certificates they signed",
	sni:      "TLS client: send and verify server `NAME` instead of HOST",
	alpn:     "offer the ALPN protocols in `LIST`, comma-separated (e.g. h2,http/1.1)",
	pin:      "TLS client: trust only the certificate whose SPKI (or whole certificate) SHA-256 is `sha256:HEX`",
	cert:     "certificate `FILE` (PEM) to present: a listener's, or a client certificate",
}

func tlsFlags(u tlsUsage) []cli.Flag {
	flags := []cli.Flag{boolFlag("tls", "ssl", catTLS, u.tls)}
	if u.listen != "" {
		flags = append(flags, boolFlag("tls-listen", "", catTLS, u.listen))
	}
	return append(flags,
		boolFlag("insecure", "", catTLS, u.insecure),
		stringFlag("ca", "ssl-trustfile", catTLS, u.ca),
		stringFlag("sni", "ssl-servername", catTLS, u.sni),
		stringFlag("alpn", "ssl-alpn", catTLS, u.alpn),
		stringFlag("pin", "", catTLS, u.pin),
		stringFlag("cert", "ssl-cert", catTLS, u.cert),
		stringFlag("key", "ssl-key", catTLS, "private key `FILE` (PEM) for --cert"),
	)
}

// Output: what sonde says, and where.

func verboseFlag(usage string) cli.Flag { return boolFlag("verbose", "v", catOutput, usage) }

// hexFlags are --hex and --hex-file; openHexLog reads them.
func hexFlags() []cli.Flag {
	return []cli.Flag{
		boolFlag("hex", "", catOutput, "dump all traffic to stderr, hexdump -C style, > sent, < received"),
		stringFlag("hex-file", "", catOutput, "write the hex dump to `FILE` (made 0600), - for stderr; with --hex: to both"),
	}
}

func progressFlag() cli.Flag {
	return boolFlag("progress", "", catOutput, "show bytes and rate each way on stderr, then a summary")
}

func jsonFlag(usage string) cli.Flag { return boolFlag("json", "", catOutput, usage) }

// reportFlags are the output flags of scan, ping and wait: --json and -v,
// worded for each, and --color.
func reportFlags(json, verbose string) []cli.Flag {
	return []cli.Flag{jsonFlag(json), verboseFlag(verbose), colorFlag()}
}

// colorFlag is --color; the action wrapper reads it for every command.
func colorFlag() cli.Flag {
	return &cli.StringFlag{Name: "color", Category: catOutput, Value: "auto", Usage: "colour messages `WHEN`: auto, always or never"}
}

// flagName is a flag's first name, read as flagNames does.
func flagName(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.BoolFlag:
		return f.Name
	case *cli.StringFlag:
		return f.Name
	case *cli.IntFlag:
		return f.Name
	case *cli.StringSliceFlag:
		return f.Name
	}
	return f.Names()[0]
}

// urfave/cli looks a flag up by asking every flag for its Names(), each
// time, and each answer passes every name through a regular expression: a
// run of the root, with its fifty-odd flags, spent more time in those
// look-ups (quadratic in the flags) than in all of sonde's own work. The
// direct* flags are sonde's flags with Names() read straight from them
// (flagNames); every other method is the flag's own. runApp gives them to
// the app it builds for one command line; the whole app (newApp), whose
// flags the completion model reads by type, keeps the plain ones.
type (
	directBool struct {
		*cli.BoolFlag
		names []string
	}
	directString struct {
		*cli.StringFlag
		names []string
	}
	directInt struct {
		*cli.IntFlag
		names []string
	}
	directStringSlice struct {
		*cli.StringSliceFlag
		names []string
	}
)

func (f *directBool) Names() []string        { return f.names }
func (f *directString) Names() []string      { return f.names }
func (f *directInt) Names() []string         { return f.names }
func (f *directStringSlice) Names() []string { return f.names }

// directFlags wraps each of flags as a direct* flag.
func directFlags(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		names := flagNames(f)
		switch f := f.(type) {
		case *cli.BoolFlag:
			out[i] = &directBool{f, names}
		case *cli.StringFlag:
			out[i] = &directString{f, names}
		case *cli.IntFlag:
			out[i] = &directInt{f, names}
		case *cli.StringSliceFlag:
			out[i] = &directStringSlice{f, names}
		default:
			out[i] = f
		}
	}
	return out
}
