package main

// The readers that turn the flags of the catalogue (flags.go) into typed
// values: durations, the address family, the colour mode, the access list,
// the hex dump and the TLS configurations.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

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
