package main

import (
	"crypto/tls"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const catTLS = "TLS"

// tlsFlags are the --tls family, shared by connect, listen and echo.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "tls", Aliases: []string{"ssl"}, Category: catTLS, DisableDefaultText: true,
			Usage: "speak TLS (verifying the server against the system roots)"},
		&cli.BoolFlag{Name: "insecure", Category: catTLS, DisableDefaultText: true,
			Usage: "TLS client: do not verify the server's certificate at all"},
		&cli.StringFlag{Name: "ca", Category: catTLS, Usage: "trust the CA certificates in `FILE` (PEM); on a listener: require client certificates they signed"},
		&cli.StringFlag{Name: "sni", Category: catTLS, Usage: "TLS client: send and verify server `NAME` instead of HOST"},
		&cli.StringFlag{Name: "alpn", Category: catTLS, Usage: "offer these ALPN protocols, comma-separated (e.g. h2,http/1.1)"},
		&cli.StringFlag{Name: "pin", Category: catTLS, Usage: "TLS client: trust only the certificate whose SPKI (or whole certificate) SHA-256 is `sha256:HEX`"},
		&cli.StringFlag{Name: "cert", Category: catTLS, Usage: "certificate `FILE` (PEM) to present: a listener's, or a client certificate"},
		&cli.StringFlag{Name: "key", Category: catTLS, Usage: "private key `FILE` (PEM) for --cert"},
	}
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

// clientTLSConfig builds the --tls client side for a connect to host.
func clientTLSConfig(c *cli.Context, host string, udp bool) (*tls.Config, error) {
	if !tlsWanted(c) {
		return nil, nil
	}
	if udp {
		return nil, usageError("TLS over UDP (DTLS) is not supported: drop -u or --tls")
	}
	if c.Bool("insecure") && c.IsSet("pin") {
		return nil, usageError("--insecure and --pin cannot be combined: --pin already replaces verification")
	}
	if c.Bool("insecure") && c.IsSet("ca") { // the --ca would be silently ignored
		return nil, usageError("--insecure and --ca cannot be combined: --insecure verifies nothing, --ca verifies against FILE")
	}
	return transport.ClientTLSConfig(tlsOptions(c), host)
}

// serverTLSConfig builds the --tls server side for a listener on host,
// and tells the user which certificate it serves: for an ephemeral one,
// its fingerprint and the --pin that trusts it, always (not only with -v).
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
	cfg, leaf, ephemeral, err := transport.ServerTLSConfig(tlsOptions(c), []string{host})
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
