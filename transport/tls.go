package transport

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sondeproject/sonde/safetext"
)

// TLSOptions are the --tls family of flags: verification, trust roots,
// pinning, our certificate, server name and ALPN.
type TLSOptions struct {
	Insecure bool     // --insecure: no verification at all
	CAFile   string   // --ca: trust these roots instead of the system's
	SNI      string   // --sni: server name to send and verify
	ALPN     []string // --alpn
	Pin      string   // --pin sha256:HEX, of the leaf's SPKI or whole certificate
	CertFile string   // --cert: our certificate (server, or client auth)
	KeyFile  string   // --key
}

// DefaultTLSTimeout bounds a client's TLS handshake when -w is not given,
// as DefaultProxyTimeout bounds a proxy's: a server that accepted the
// connection but does not speak TLS waits in silence for the client to
// speak first, and would hold sonde for ever.
const DefaultTLSTimeout = 15 * time.Second

// TLSError reports a failed TLS handshake with the peer it was with.
type TLSError struct {
	Peer    string
	Err     error
	Timeout time.Duration // the handshake timeout in force, 0 for none
	Server  bool          // sonde was the server: the peer is a client
}

func (e *TLSError) Error() string { return fmt.Sprintf("TLS handshake with %s: %v", e.Peer, e.Err) }
func (e *TLSError) Unwrap() error { return e.Err }

// ParsePin checks a --pin value: "sha256:" and 64 hex digits (colons allowed).
func ParsePin(s string) ([]byte, error) {
	const hint = "e.g. --pin sha256:3f9a…(64 hex digits), as sonde -l --tls prints it"
	h, ok := strings.CutPrefix(strings.TrimSpace(s), "sha256:")
	if !ok {
		return nil, badInput(hint, "bad --pin %q: must start with sha256:", s)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, badInput(hint, "bad --pin %q: want 64 hex digits after sha256:", s)
	}
	return b, nil
}

// maxALPNBytes bounds the --alpn list as TLS sends it (each name with its
// length byte): far more than any real list, and well within the 64 KiB
// that all of a ClientHello's extensions share.
const maxALPNBytes = 32 << 10

// checkALPN checks the --alpn protocols now: crypto/tls refuses an empty
// name, one longer than 255 bytes (TLS gives each a length byte) or a list
// too long for the ClientHello, but only in the handshake, once connected.
func checkALPN(protos []string) error {
	const hint = "give protocol names of 1 to 255 bytes, separated by commas, e.g. --alpn h2,http/1.1"
	total := 0
	for _, p := range protos {
		switch {
		case p == "":
			return badInput(hint, "bad --alpn: empty protocol name")
		case len(p) > 255:
			return badInput(hint, "bad --alpn: a protocol name of %d bytes (%q...), at most 255", len(p), p[:16])
		}
		total += 1 + len(p)
	}
	if total > maxALPNBytes {
		return badInput(hint, "bad --alpn: %d protocol names, %d bytes in all, at most %d", len(protos), total, maxALPNBytes)
	}
	return nil
}

// ClientTLSConfig builds the client side. Verification against the system
// roots is on by default. --pin replaces chain and name verification by an
// exact match of the leaf's SPKI (or certificate) hash: that is how a
// self-signed listener is trusted.
func ClientTLSConfig(o TLSOptions, host string) (*tls.Config, error) {
	if err := checkALPN(o.ALPN); err != nil {
		return nil, err
	}
	cfg := &tls.Config{ServerName: host, NextProtos: o.ALPN, MinVersion: tls.VersionTLS12}
	if o.SNI != "" {
		cfg.ServerName = o.SNI
	}
	if ip, err := netip.ParseAddr(cfg.ServerName); err == nil && o.SNI == "" {
		cfg.ServerName = ip.WithZone("").String() // verified against IP SANs
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, badInput("give a PEM file of CA certificates", "cannot read --ca %s: %v", o.CAFile, fileCause(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badInput("give a PEM file of CA certificates", "--ca %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := loadKeyPair(o)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	switch {
	case o.Pin != "":
		pin, err := ParsePin(o.Pin)
		if err != nil {
			return nil, err
		}
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			spki, whole := sha256.Sum256(leaf.RawSubjectPublicKeyInfo), sha256.Sum256(leaf.Raw)
			if bytes.Equal(pin, spki[:]) || bytes.Equal(pin, whole[:]) {
				return nil
			}
			return &PinMismatchError{Got: SPKIPin(leaf)}
		}
	case o.Insecure:
		cfg.InsecureSkipVerify = true
	default:
		cfg.InsecureSkipVerify = true // replaced by verifyChainFirst, never skipped
		cfg.VerifyConnection = verifyChainFirst(cfg.RootCAs, cfg.ServerName)
	}
	return cfg, nil
}

// verifyChainFirst checks the server's certificate as crypto/tls does, but
// its chain before its name: crypto/tls checks the name first, so a
// self-signed certificate (ncat's, say) would be reported as a name
// mismatch that no --sni can fix, rather than as the unknown authority
// that --ca or --pin fix.
func verifyChainFirst(roots *x509.CertPool, name string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		err := func() error {
			if _, err := leaf.Verify(opts); err != nil {
				return err
			}
			return leaf.VerifyHostname(name)
		}()
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// PinMismatchError: the certificate is not the pinned one.
type PinMismatchError struct{ Got string }

func (e *PinMismatchError) Error() string {
	return "the certificate does not match --pin (its pin is " + e.Got + ")"
}

func loadKeyPair(o TLSOptions) (tls.Certificate, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return tls.Certificate{}, badInput("give both, e.g. --cert server.pem --key server.key", "--cert and --key go together")
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return tls.Certificate{}, badInput("give a PEM certificate and its PEM private key", "cannot load --cert %s / --key %s: %v", o.CertFile, o.KeyFile, rootCause(err))
	}
	return cert, nil
}

// ServerTLSConfig builds the server side from --cert/--key, or from a fresh
// self-signed ECDSA certificate for hosts (plus localhost and the loopback
// addresses). ephemeral tells which; the leaf is returned for reporting.
func ServerTLSConfig(o TLSOptions, hosts []string) (cfg *tls.Config, leaf *x509.Certificate, ephemeral bool, err error) {
	if err := checkALPN(o.ALPN); err != nil {
		return nil, nil, false, err
	}
	var cert tls.Certificate
	if o.CertFile != "" || o.KeyFile != "" {
		if cert, err = loadKeyPair(o); err != nil {
			return nil, nil, false, err
		}
	} else {
		if cert, err = selfSigned(hosts); err != nil {
			return nil, nil, false, err
		}
		ephemeral = true
	}
	leaf, err = x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, nil, false, err
	}
	cfg = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: o.ALPN, MinVersion: tls.VersionTLS12}
	if o.CAFile != "" { // --ca on a server: require client certificates it signed
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, nil, false, badInput("give a PEM file of CA certificates", "cannot read --ca %s: %v", o.CAFile, fileCause(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, false, badInput("give a PEM file of CA certificates", "--ca %s holds no PEM certificate", o.CAFile)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, leaf, ephemeral, nil
}

func selfSigned(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sonde ephemeral certificate"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if h == "" || h == "localhost" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !ip.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, name)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// SPKIPin is the --pin value that matches cert.
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Fingerprint is the SHA-256 of the whole certificate, as browsers and
// openssl x509 -fingerprint -sha256 show it.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// Handshake runs the TLS handshake on conn, bounded by timeout (0: none).
func Handshake(ctx context.Context, c *tls.Conn, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := c.HandshakeContext(ctx); err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
			return cause
		}
		return &TLSError{Peer: c.RemoteAddr().String(), Err: err, Timeout: timeout}
	}
	return nil
}

// ServerHandshake is Handshake on the server side of c: its error words
// the peer as the client.
func ServerHandshake(ctx context.Context, c *tls.Conn, timeout time.Duration) error {
	err := Handshake(ctx, c, timeout)
	var te *TLSError
	if errors.As(err, &te) {
		te.Server = true
	}
	return err
}

// DescribeTLS words a finished handshake for -v: version, cipher suite,
// ALPN, and the peer certificate with its expiry, marked "not verified"
// unless peerVerified (see VerifiesPeer).
func DescribeTLS(cs tls.ConnectionState, peerVerified bool) []string {
	lines := []string{fmt.Sprintf("%s, %s, ALPN %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), orNone(cs.NegotiatedProtocol))}
	if len(cs.PeerCertificates) > 0 {
		what := "peer certificate"
		if !peerVerified {
			what += " (not verified)"
		}
		lines = append(lines, describeCert(what, cs.PeerCertificates[0])...)
	}
	return lines
}

// VerifiesPeer tells whether a handshake under cfg checked the peer's
// certificate: a client's config does unless built with Insecure (its own
// checks replace crypto/tls's, so InsecureSkipVerify alone says nothing);
// a server's does when it requires client certificates (--ca).
func VerifiesPeer(cfg *tls.Config, server bool) bool {
	if server {
		return cfg.ClientAuth >= tls.VerifyClientCertIfGiven
	}
	return !cfg.InsecureSkipVerify || cfg.VerifyConnection != nil || cfg.VerifyPeerCertificate != nil
}

func describeCert(what string, c *x509.Certificate) []string {
	names := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	// With --insecure or --pin an expired certificate gets this far.
	left := fmt.Sprintf("%d days left", int(time.Until(c.NotAfter).Hours()/24))
	if time.Now().After(c.NotAfter) {
		left = fmt.Sprintf("expired %d days ago", int(time.Since(c.NotAfter).Hours()/24))
	}
	return []string{
		fmt.Sprintf("%s: subject %s; names %s", what, c.Subject, orNone(strings.Join(names, ", "))),
		fmt.Sprintf("%s: issuer %s; valid until %s (%s)", what, c.Issuer, c.NotAfter.UTC().Format("2006-01-02 15:04 MST"), left),
	}
}

// DescribeCert words a certificate sonde serves.
func DescribeCert(c *x509.Certificate) []string { return describeCert("certificate", c) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// LooksLikeTLS tells whether p starts like a TLS record (handshake or
// alert, version 3.x): plain text sent to a TLS port comes back as one.
func LooksLikeTLS(p []byte) bool {
	return len(p) >= 3 && (p[0] == 0x16 || p[0] == 0x15) && p[1] == 0x03 && p[2] <= 0x04
}

func explainTLS(e *TLSError) Explanation {
	var (
		inv  x509.CertificateInvalidError
		host x509.HostnameError
		ua   x509.UnknownAuthorityError
		rh   tls.RecordHeaderError
		pin  *PinMismatchError
		ae   tls.AlertError
		op   *net.OpError
	)
	x := Explanation{Msg: fmt.Sprintf("TLS handshake with %s failed: %v", e.Peer, rootCause(e.Err))}
	switch {
	case errors.As(e.Err, &inv) && inv.Reason == x509.Expired:
		c := inv.Cert
		if time.Now().Before(c.NotBefore) {
			x.Msg = fmt.Sprintf("TLS: the certificate of %s is not valid yet: valid from %s", e.Peer, c.NotBefore.UTC().Format(time.RFC3339))
			x.Hint = "check this machine's clock, or the certificate's dates"
		} else {
			x.Msg = fmt.Sprintf("TLS: the certificate of %s expired on %s (%d days ago)", e.Peer,
				c.NotAfter.UTC().Format(time.RFC3339), int(time.Since(c.NotAfter).Hours()/24))
			x.Hint = "the server must renew its certificate; --insecure connects anyway, unverified"
		}
	case errors.As(e.Err, &inv):
		x.Msg = fmt.Sprintf("TLS: the certificate of %s is not valid: %s", e.Peer, inv.Error())
	case errors.As(e.Err, &host):
		valid := append([]string{}, host.Certificate.DNSNames...)
		for _, ip := range host.Certificate.IPAddresses {
			valid = append(valid, ip.String())
		}
		x.Msg = fmt.Sprintf("TLS: the certificate of %s is for %s, not %s", e.Peer, orNone(strings.Join(valid, ", ")), host.Host)
		x.Hint = "connect by one of those names, or give the expected one with --sni"
		if slices.Contains(host.Certificate.DNSNames, host.Host) { // ncat's ephemeral certificates do this
			x.Hint = fmt.Sprintf("the certificate gives %s as a DNS name, which never matches an IP address; trust it with --pin instead", host.Host)
		}
	case errors.As(e.Err, &ua):
		issuer := "unknown"
		if ua.Cert != nil {
			issuer = ua.Cert.Issuer.String()
		}
		x.Msg = fmt.Sprintf("TLS: the certificate of %s is signed by an unknown authority (issuer: %s)", e.Peer, issuer)
		x.Hint = "trust its CA with --ca FILE, pin it with --pin sha256:…, or skip checks with --insecure"
	case errors.As(e.Err, &pin):
		x.Msg = fmt.Sprintf("TLS: %s: %v", e.Peer, pin)
		x.Hint = "the server's key changed, or this is not the server you pinned"
	case errors.As(e.Err, &rh):
		x.Msg = fmt.Sprintf("TLS: %s did not answer with TLS; it sent \"%s\"", e.Peer, safetext.Escape(string(rh.RecordHeader[:])))
		x.Hint = "this looks like a plain-text port: drop --tls"
	case errors.As(e.Err, &ae) || errors.As(e.Err, &op) && op.Op == "remote error":
		alert := ae.Error()
		if op != nil { // an alert the peer sent, as crypto/tls reports it over TCP
			alert = op.Err.Error()
		}
		x.Msg = fmt.Sprintf("TLS handshake with %s failed: the peer sent the alert %q", e.Peer, alert)
		x.Hint = alertHint(alert)
	case (errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded)) && e.Server:
		x.Msg = fmt.Sprintf("TLS handshake with client %s timed out%s: it connected but never finished the handshake (not a TLS client?)", e.Peer, after(e.Timeout))
		x.Hint = "a plain-text client waits for the server to speak first; -w sets how long a client may take"
	case errors.Is(e.Err, context.DeadlineExceeded), errors.Is(e.Err, os.ErrDeadlineExceeded):
		x.Msg = fmt.Sprintf("TLS handshake with %s timed out%s: the server accepted the connection but never answered the handshake (not a TLS port?)", e.Peer, after(e.Timeout))
		x.Hint = "a plain-text server waits in silence for its client to speak first: check the port, or drop --tls; -w sets how long to wait"
	case strings.Contains(e.Err.Error(), "EOF"):
		x.Msg = fmt.Sprintf("TLS handshake with %s failed: the peer closed the connection", e.Peer)
		x.Hint = "the peer may not speak TLS on this port, or it rejected our hello (SNI, ALPN, version)"
	case strings.Contains(e.Err.Error(), "first record does not look like a TLS handshake"):
		x.Msg = fmt.Sprintf("TLS: %s sent plain text, not a TLS handshake", e.Peer)
		x.Hint = "the client does not speak TLS: drop --tls, or use a TLS client"
	default:
		why, hint := reason(e.Err, 0)
		x.Msg = fmt.Sprintf("TLS handshake with %s failed: %s", e.Peer, why)
		x.Hint = hint
	}
	return x
}

// alertHint suggests what to do about a TLS alert the peer sent.
func alertHint(alert string) string {
	switch strings.TrimPrefix(alert, "tls: ") {
	case "certificate required":
		return "the server wants a client certificate: add --cert and --key"
	case "bad certificate", "unknown certificate authority", "certificate unknown", "unsupported certificate":
		return "the peer rejected a certificate: the server wants a client certificate (--cert/--key) signed by a CA it trusts"
	case "no application protocol":
		return "the peer speaks none of the protocols offered with --alpn"
	}
	return "the two ends share no protocol version, cipher suite or ALPN protocol, or the peer wants a client certificate (--cert/--key)"
}

// after words a timeout in force for a message: " after 15s", or nothing.
func after(timeout time.Duration) string {
	if timeout <= 0 {
		return ""
	}
	return " after " + timeout.String()
}

// fileCause drops the "open FILE" an *fs.PathError repeats: the message
// already names the file.
func fileCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
