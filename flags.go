package main

// The flag catalogue: every flag sonde knows is defined here once, grouped
// by the category --help shows it under, and each command picks its own
// from it. urfave/cli keeps parse state in the flag values, so the
// catalogue hands out constructors, and every command gets fresh flags.
// Where a flag means something a little different to one command (-w is
// the connect timeout of connect but the time a probe may take in ping),
// the constructor takes the command's wording of the usage line.
//
// Below the catalogue are the readers that turn flags into typed values:
// durations, the address family, the colour mode, the access list, the hex
// dump and the TLS configurations.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
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

// hideFlags hides the flags of names among flags (see hidden).
func hideFlags(flags []cli.Flag, names ...string) []cli.Flag {
	for _, f := range flags {
		if slices.Contains(names, f.Names()[0]) {
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

func maxConnsFlag(usage string) cli.Flag {
	return &cli.IntFlag{Name: "max-conns", Category: catConn, Usage: usage}
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
	return &cli.IntFlag{Name: "concurrency", Category: catConn, Value: value,
		Usage: "probe `N` ports at once (fewer if the open-file limit is lower)"}
}

func retriesFlag(value int) cli.Flag {
	return &cli.IntFlag{Name: "retries", Category: catConn, Value: value,
		Usage: "probe a silent port `N` more times, each for -w, before calling it filtered (-u: open|filtered)"}
}

func maxHopsFlag(value int) cli.Flag {
	return &cli.IntFlag{Name: "max-hops", Aliases: []string{"m"}, Category: catConn, Value: value,
		Usage: "probe with TTLs (IPv6: hop limits) up to `N`"}
}

func probesFlag(value int) cli.Flag {
	return &cli.IntFlag{Name: "probes", Category: catConn, Value: value,
		Usage: "send `N` probes with each TTL"}
}

func maxHostsFlag(value int) cli.Flag {
	return &cli.IntFlag{Name: "max-hosts", Category: catConn, Value: value,
		Usage: "probe at most `N` addresses (a CIDR block counts each of its addresses, a name one)"}
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
		&cli.IntFlag{Name: "replies", Category: catData, Usage: "UDP: exit after `N` datagrams have arrived; exit 1 if the session ends with fewer"},
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

// The readers.

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

// positiveDuration reads a duration flag that must be above zero when
// given; 0 means it was not given.
func positiveDuration(c *cli.Context, name string) (d time.Duration, err error) {
	if d, err = durationFlag(c, name, false); err != nil {
		return 0, err
	}
	if c.IsSet(name) && d == 0 {
		return 0, usageError("bad %s %s: must be more than 0", dashed(name), c.String(name))
	}
	return d, nil
}

// probeSettings reads -w, --retries and --concurrency, which scan and
// check share: 0 for -w and --concurrency when not given (the mode's
// default), retries the default when not given (sonde -z has no
// --retries and no --concurrency: their defaults).
func probeSettings(c *cli.Context, defaultRetries int) (timeout time.Duration, retries, concurrency int, err error) {
	if timeout, err = positiveDuration(c, "wait"); err != nil {
		return 0, 0, 0, err
	}
	retries = defaultRetries
	if c.IsSet("retries") {
		if retries = c.Int("retries"); retries < 0 {
			return 0, 0, 0, usageError("bad --retries %d: must be 0 or more", retries)
		}
	}
	if c.IsSet("concurrency") {
		if concurrency = c.Int("concurrency"); concurrency < 1 {
			return 0, 0, 0, usageError("bad --concurrency %d: must be 1 or more", concurrency)
		}
	}
	return timeout, retries, concurrency, nil
}

// maxHostsValue reads --max-hosts.
func maxHostsValue(c *cli.Context) (int, error) {
	if n := c.Int("max-hosts"); n < 1 {
		return 0, usageError("bad --max-hosts %d: must be 1 or more", n)
	}
	return c.Int("max-hosts"), nil
}

// openInput opens a file the user named for sonde to read (a targets
// file, a policy), "-" being stdin; name is what messages call it.
func openInput(path, what string, stdin io.Reader) (r io.Reader, name string, closeFn func(), err error) {
	if path == "-" {
		return stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, "", nil, &transport.InputError{Msg: fmt.Sprintf("cannot read %s %s: %v", what, path, err),
			Hint: "give the path of a readable file, or - for stdin"}
	}
	return f, path, func() { f.Close() }, nil
}

// familyFlag reads -4 and -6: 4, 6, or 0 for either.
func familyFlag(c *cli.Context) (int, error) {
	switch {
	case c.Bool("4") && c.Bool("6"):
		return 0, usageError("-4 and -6 cannot be combined")
	case c.Bool("4"):
		return 4, nil
	case c.Bool("6"):
		return 6, nil
	}
	return 0, nil
}

// addressOptions reads -4/-6, -n and -s into an endpoint whose host and
// port the command's arguments give.
func addressOptions(c *cli.Context) (e transport.Endpoint, err error) {
	if e.Family, err = familyFlag(c); err != nil {
		return e, err
	}
	e.Numeric = c.Bool("numeric")
	e.Source, err = transport.ParseHost(c.String("source"))
	return e, err
}

// networkFlag reads -u and -U into the network name of package transport.
func networkFlag(c *cli.Context) string {
	unix, udp := c.Bool("unix"), c.Bool("udp")
	switch {
	case unix && udp:
		return "unixgram"
	case unix:
		return "unix"
	case udp:
		return "udp"
	}
	return "tcp"
}

// maxConnsValue reads --max-conns, which only a count of zero or more makes sense of.
func maxConnsValue(c *cli.Context) (int, error) {
	if n := c.Int("max-conns"); n < 0 {
		return 0, usageError("bad --max-conns %d: must be 0 (no limit) or more", n)
	}
	return c.Int("max-conns"), nil
}

// colorMode reads --color.
func colorMode(c *cli.Context) (string, error) {
	switch c.String("color") {
	case "auto", "always", "never":
		return c.String("color"), nil
	}
	return "", &transport.InputError{Msg: "bad --color " + c.String("color"), Hint: "use --color auto, always or never"}
}

// accessList builds --allow, --deny and --allow-uid (nil without them).
// Host names are resolved once, now.
func accessList(ctx context.Context, c *cli.Context) (a *transport.AccessList, err error) {
	if c.IsSet("allow") || c.IsSet("deny") {
		if a, err = transport.NewAccessList(ctx, c.StringSlice("allow"), c.StringSlice("deny"), c.Bool("numeric")); err != nil {
			return nil, err
		}
	}
	if !c.IsSet("allow-uid") {
		return a, nil
	}
	var uids []uint32
	for _, v := range c.StringSlice("allow-uid") {
		for _, item := range strings.Split(v, ",") {
			uid, err := strconv.ParseUint(strings.TrimSpace(item), 10, 32)
			if err != nil {
				return nil, &transport.InputError{Msg: fmt.Sprintf("bad --allow-uid %q: want a numeric user id", item),
					Hint: "e.g. --allow-uid 1000 (id -u USER tells a user's id)"}
			}
			uids = append(uids, uint32(uid))
		}
	}
	return a.WithUIDs(uids), nil
}

// checkAllowUID rejects --allow-uid where it cannot apply: it reads the
// user of a client of a Unix stream listener from the kernel's record of
// the connection, which Linux keeps (SO_PEERCRED).
func checkAllowUID(c *cli.Context, listen, unix bool) error {
	switch {
	case !c.IsSet("allow-uid"):
		return nil
	case !listen || !unix:
		return usageError("--allow-uid chooses the users a Unix socket listener serves: it needs -lU")
	case c.Bool("udp"):
		return usageError("--allow-uid is not supported with -u: a Unix datagram carries no credentials sonde checks")
	case !transport.PeerCredSupported:
		return &transport.InputError{Msg: "--allow-uid is not supported here: sonde reads a client's user with SO_PEERCRED, which only Linux has",
			Hint: "limit who may open the socket with the permissions of its directory"}
	}
	return nil
}

// openHexLog sets up --hex / --hex-file. The dump goes to stderr, coloured
// by direction when messages are (--hex, or --hex-file -), to a file of its
// own, never coloured (--hex-file FILE), or to both, uncoloured, when
// --hex and --hex-file FILE are given together.
func openHexLog(c *cli.Context, u *ui.UI) (*transport.HexLog, func(), error) {
	path := c.String("hex-file")
	if path == "" || path == "-" {
		if !c.Bool("hex") && path == "" {
			return nil, func() {}, nil
		}
		colors := transport.HexColors{}
		if !color.NoColor {
			colors = transport.HexColors{Sent: ui.Paint(color.FgGreen), Received: ui.Paint(color.FgCyan), Note: ui.Paint(color.Faint)}
		}
		return transport.NewHexLog(u.Writer(), colors), func() {}, nil
	}
	f, was, err := transport.OpenPrivateFile(path)
	if err != nil {
		// Worded here, as --ca is: Explain would take the ENOENT of a
		// bad path for a missing Unix socket.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		hint := "give a file in a directory that exists and that sonde may write to"
		var notOwner *transport.NotOwnerError
		switch {
		case errors.Is(err, transport.ErrSymlink):
			hint = "sonde never writes through a symbolic link; give the path of the file itself"
		case errors.As(err, &notOwner):
			hint = "sonde writes only its own user's files; choose another path"
		}
		return nil, nil, &transport.InputError{Msg: fmt.Sprintf("cannot open --hex-file %s: %v", path, err), Hint: hint}
	}
	if was != 0 {
		// Said always: sonde changed a file the user had.
		u.Infof("--hex-file %s was mode %04o: made 0600 before writing", path, was.Perm())
	}
	var w io.Writer = f
	if c.Bool("hex") {
		w = io.MultiWriter(f, u.Writer())
	}
	return transport.NewHexLog(w, transport.HexColors{}), func() { f.Close() }, nil
}

func tlsOptions(c *cli.Context) transport.TLSOptions {
	o := transport.TLSOptions{
		Insecure: c.Bool("insecure"),
		CAFile:   c.String("ca"),
		SNI:      c.String("sni"),
		Pin:      c.String("pin"),
		CertFile: c.String("cert"),
		KeyFile:  c.String("key"),
	}
	for _, p := range strings.Split(c.String("alpn"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.ALPN = append(o.ALPN, p)
		}
	}
	return o
}

// tlsWanted tells whether the command line asks for TLS: --tls, or any
// option that only makes sense with it.
func tlsWanted(c *cli.Context) bool {
	for _, name := range []string{"tls", "insecure", "ca", "sni", "alpn", "pin", "cert", "key"} {
		if c.IsSet(name) {
			return true
		}
	}
	return false
}

// checkClientTLS rejects the verification flags that contradict each
// other; caForServer tells that --ca verifies the server (relay
// --tls-listen gives it to the listener instead).
func checkClientTLS(c *cli.Context, caForServer bool) error {
	switch {
	case c.Bool("insecure") && c.IsSet("pin"):
		return usageError("--insecure and --pin cannot be combined: --pin already replaces verification")
	case caForServer && c.Bool("insecure") && c.IsSet("ca"): // the --ca would be silently ignored
		return usageError("--insecure and --ca cannot be combined: --insecure verifies nothing, --ca verifies against FILE")
	}
	return nil
}

// clientTLSConfig builds the --tls client side for a connect to host.
func clientTLSConfig(c *cli.Context, u *ui.UI, host string, udp bool) (*tls.Config, error) {
	if !tlsWanted(c) {
		return nil, nil
	}
	if udp {
		return nil, usageError("TLS over UDP (DTLS) is not supported: drop -u or --tls")
	}
	if err := checkClientTLS(c, true); err != nil {
		return nil, err
	}
	cfg, err := transport.ClientTLSConfig(tlsOptions(c), host)
	if err == nil {
		warnUnverified(c, u)
	}
	return cfg, err
}

// warnUnverified says, once, what --insecure costs.
func warnUnverified(c *cli.Context, u *ui.UI) {
	if c.Bool("insecure") {
		u.Warnf("certificate not verified: anyone in the path can read and change the traffic")
	}
}

// serverTLSConfig builds the --tls server side for a listener on host.
func serverTLSConfig(c *cli.Context, u *ui.UI, host string, udp bool) (*tls.Config, error) {
	if !tlsWanted(c) {
		return nil, nil
	}
	if udp {
		return nil, usageError("TLS over UDP (DTLS) is not supported: drop -u or --tls")
	}
	for _, name := range []string{"insecure", "sni", "pin"} {
		if c.IsSet(name) {
			return nil, usageError("--%s is for TLS clients, not listeners", name)
		}
	}
	return listenerTLS(tlsOptions(c), u, host)
}

// listenerTLS builds a listener's TLS config, and tells the user which
// certificate it serves: for an ephemeral one, its fingerprint and the
// --pin that trusts it, always (not only with -v).
func listenerTLS(opts transport.TLSOptions, u *ui.UI, host string) (*tls.Config, error) {
	cfg, leaf, ephemeral, err := transport.ServerTLSConfig(opts, []string{host})
	if err != nil {
		return nil, err
	}
	if ephemeral {
		u.Infof("TLS with an ephemeral self-signed certificate; SHA-256 fingerprint %s", transport.Fingerprint(leaf))
		u.Infof("clients can trust it with --pin %s", transport.SPKIPin(leaf))
	}
	for _, l := range transport.DescribeCert(leaf) {
		u.Verbosef(1, "%s", l)
	}
	return cfg, nil
}
