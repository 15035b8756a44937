//go:build linux

package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/certtest"
)

// The TLS tests (--tls, its verification, and the message that names
// the check that failed) run sonde against OpenSSL (s_server and
// s_client), Ncat's --ssl and Python's ssl module, with certificates
// made by internal/certtest: a test CA, a valid leaf for localhost and 127.0.0.1, an
// expired one, one not valid yet and one for another name.

// heldStdin is a pipe for a process's stdin that the test writes to and
// closes when it chooses: the end of a session is then up to the test,
// not to whichever of a peer's stdin and socket happens to be read first.
type heldStdin struct {
	r, w *os.File
}

func newHeldStdin(t *testing.T) *heldStdin {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return &heldStdin{r: r, w: w}
}

func (h *heldStdin) write(t *testing.T, s string) {
	t.Helper()
	if _, err := h.w.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// waitStdout waits until p has written want on its stdout.
func waitStdout(t *testing.T, p *proc, want string) {
	t.Helper()
	if !pollUntil(t, fmt.Sprintf("%s to print %q", p.Name, want), p, func() bool {
		return strings.Contains(p.Stdout.String(), want)
	}) {
		t.Fatalf("%s exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", p.Name, p.Cmd.ProcessState, want, p.Stdout.String(), p.Stderr.String())
	}
}

// wantStderr checks that each regular expression matches a line of p's
// stderr.
func wantStderr(t *testing.T, p *proc, patterns ...string) {
	t.Helper()
	for _, pat := range patterns {
		if !regexp.MustCompile("(?m)" + pat).MatchString(p.Stderr.String()) {
			t.Errorf("%s stderr has no line matching %s:\n%s", p.Name, pat, p.Stderr.String())
		}
	}
}

// opensslServer starts `openssl s_server -quiet` with leaf on a free
// loopback port. It prints what it receives and sends its stdin.
func opensslServer(t *testing.T, leaf certtest.Cert, stdin *heldStdin) (*proc, int) {
	t.Helper()
	requirePeer(t, "openssl")
	return startPeerListener(t, "tcp4", func(port int) *proc {
		return start(t, stdio{Stdin: stdin.r}, "openssl", "s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port),
			"-cert", leaf.CertFile, "-key", leaf.KeyFile, "-quiet")
	})
}

// exchange runs a TLS session between sonde and a peer whose stdins the
// test holds: each side sends a line, each must print the other's, then
// sonde's stdin ends, which closes its side of the session (TLS
// close_notify); the peer then ends the connection and sonde exits 0.
// Ncat as a client ends only once its own stdin has ended too: endPeerIn.
func exchange(t *testing.T, s *proc, sIn *heldStdin, peer *proc, peerIn *heldStdin, peerName string, endPeerIn bool) {
	t.Helper()
	fromSonde, fromPeer := "from sonde\n", "from "+peerName+"\n"
	peerIn.write(t, fromPeer)
	sIn.write(t, fromSonde)
	waitStdout(t, peer, fromSonde)
	waitStdout(t, s, fromPeer)
	sIn.w.Close()
	if endPeerIn {
		peerIn.w.Close()
	}
	s.ExpectExit(t, 0)
	sameBytes(t, "sonde stdout (what "+peerName+" sent)", s.Stdout.Bytes(), []byte(fromPeer))
	sameBytes(t, peerName+" stdout (what sonde sent)", peer.Stdout.Bytes(), []byte(fromSonde))
}

// TestTLSSondeToOpenSSLServer: sonde --tls verifies openssl s_server's
// certificate and, when a check fails, says which one (expired, not yet valid, wrong name, unknown authority).
func TestTLSSondeToOpenSSLServer(t *testing.T) {
	t.Parallel()
	pki := certtest.New(t)

	t.Run("verified-data-both-ways", func(t *testing.T) {
		t.Parallel()
		leaf := pki.Valid(t)
		srvIn := newHeldStdin(t)
		srv, port := opensslServer(t, leaf, srvIn)
		sIn := newHeldStdin(t)
		s := sonde(t, stdio{Stdin: sIn.r}, "-v", "--tls", "--ca", pki.CAFile, "127.0.0.1", strconv.Itoa(port))
		exchange(t, s, sIn, srv, srvIn, "s_server", false)
		wantStderr(t, s,
			`^sonde: TLS 1\.[23], TLS_[A-Z0-9_]+, ALPN none$`,
			`^sonde: peer certificate: subject CN=localhost; names localhost, 127\.0\.0\.1$`,
			`^sonde: peer certificate: issuer CN=sonde test CA; valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(29 days left\)$`)
	})

	t.Run("pin-computed-by-openssl", func(t *testing.T) {
		// The pin of the SPKI as openssl computes it, as a user would:
		// openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256.
		t.Parallel()
		requirePeer(t, "openssl")
		leaf := pki.Valid(t)
		pubPEM, err := exec.Command("openssl", "x509", "-in", leaf.CertFile, "-noout", "-pubkey").Output()
		if err != nil {
			t.Fatalf("openssl x509 -pubkey: %v", err)
		}
		conv := exec.Command("openssl", "pkey", "-pubin", "-outform", "DER")
		conv.Stdin = bytes.NewReader(pubPEM)
		spki, err := conv.Output()
		if err != nil {
			t.Fatalf("openssl pkey: %v", err)
		}
		sum := sha256.Sum256(spki)
		srvIn := newHeldStdin(t)
		srv, port := opensslServer(t, leaf, srvIn)
		sIn := newHeldStdin(t)
		// No --ca: the pin alone is the trust.
		s := sonde(t, stdio{Stdin: sIn.r}, "--pin", "sha256:"+hex.EncodeToString(sum[:]), "127.0.0.1", strconv.Itoa(port))
		exchange(t, s, sIn, srv, srvIn, "s_server", false)
	})

	failures := []struct {
		name   string
		leaf   func(testing.TB) certtest.Cert
		args   []string
		stderr func(leaf certtest.Cert) []string
		hintRE string
	}{
		{"expired", pki.Expired, []string{"--ca", pki.CAFile}, func(l certtest.Cert) []string {
			return []string{`^sonde: TLS: the certificate of 127\.0\.0\.1:\d+ expired on ` +
				regexp.QuoteMeta(l.Leaf.NotAfter.UTC().Format(time.RFC3339)) + ` \(3 days ago\)$`}
		}, `^sonde: hint: the server must renew its certificate; --insecure connects anyway, unverified$`},
		{"not-yet-valid", pki.NotYetValid, []string{"--ca", pki.CAFile}, func(l certtest.Cert) []string {
			return []string{`^sonde: TLS: the certificate of 127\.0\.0\.1:\d+ is not valid yet: valid from ` +
				regexp.QuoteMeta(l.Leaf.NotBefore.UTC().Format(time.RFC3339)) + `$`}
		}, `^sonde: hint: check this machine's clock`},
		{"wrong-name", pki.OtherName, []string{"--ca", pki.CAFile}, func(certtest.Cert) []string {
			return []string{`^sonde: TLS: the certificate of 127\.0\.0\.1:\d+ is for other\.example, www\.other\.example, not 127\.0\.0\.1$`}
		}, `^sonde: hint: connect by one of those names, or give the expected one with --sni$`},
		{"unknown-authority", pki.Valid, []string{"--tls"}, func(certtest.Cert) []string {
			return []string{`^sonde: TLS: the certificate of 127\.0\.0\.1:\d+ is signed by an unknown authority \(issuer: CN=sonde test CA\)$`}
		}, `^sonde: hint: trust its CA with --ca FILE`},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			leaf := f.leaf(t)
			_, port := opensslServer(t, leaf, newHeldStdin(t))
			args := append(append([]string{}, f.args...), "127.0.0.1", strconv.Itoa(port))
			s := sonde(t, stdio{Stdin: strings.NewReader("hello\n")}, args...)
			s.ExpectExit(t, 1)
			if s.Stdout.String() != "" {
				t.Errorf("sonde wrote %q to stdout", s.Stdout.String())
			}
			wantStderr(t, s, append(f.stderr(leaf), f.hintRE)...)
		})
	}

	t.Run("sni-selects-the-verified-name", func(t *testing.T) {
		t.Parallel()
		leaf := pki.OtherName(t)
		srvIn := newHeldStdin(t)
		srv, port := opensslServer(t, leaf, srvIn)
		sIn := newHeldStdin(t)
		s := sonde(t, stdio{Stdin: sIn.r}, "--ca", pki.CAFile, "--sni", "www.other.example", "127.0.0.1", strconv.Itoa(port))
		exchange(t, s, sIn, srv, srvIn, "s_server", false)
	})
}

var (
	sondePinRE         = regexp.MustCompile(`(?m)^sonde: clients can trust it with --pin (sha256:[0-9a-f]{64})$`)
	sondeFingerprintRE = regexp.MustCompile(`(?m)^sonde: TLS with an ephemeral self-signed certificate; SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$`)
)

// ephemeralListener starts `sonde -l --tls 127.0.0.1 0` and returns its
// port, the --pin it printed and its certificate's fingerprint (hex, lower
// case, no colons).
func ephemeralListener(t *testing.T, s stdio) (p *proc, port int, pin, fingerprint string) {
	t.Helper()
	p = sonde(t, s, "-l", "--tls", "127.0.0.1", "0")
	_, port = p.ListenAddr(t) // printed after the certificate lines
	out := p.Stderr.String()
	pm, fm := sondePinRE.FindStringSubmatch(out), sondeFingerprintRE.FindStringSubmatch(out)
	if pm == nil || fm == nil {
		t.Fatalf("sonde -l --tls did not print its fingerprint and pin as expected:\n%s", out)
	}
	return p, port, pm[1], strings.ToLower(strings.ReplaceAll(fm[1], ":", ""))
}

// TestTLSPeersConnectToSondeListener: TLS clients of other makes talk to
// sonde -l --tls, with the ephemeral certificate or with --cert/--key.
func TestTLSPeersConnectToSondeListener(t *testing.T) {
	t.Parallel()

	t.Run("openssl-s_client", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "openssl")
		sIn := newHeldStdin(t)
		s, port, _, _ := ephemeralListener(t, stdio{Stdin: sIn.r})
		// -quiet implies -ign_eof: s_client ends when the server does.
		cIn := newHeldStdin(t)
		c := start(t, stdio{Stdin: cIn.r}, "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-quiet")
		exchange(t, s, sIn, c, cIn, "s_client", false)
		c.Wait(t)
	})

	t.Run("python-ssl", func(t *testing.T) {
		// Python cannot pin; it takes the certificate unverified and
		// prints its SHA-256, which must be the fingerprint sonde printed.
		t.Parallel()
		requirePeer(t, "python3")
		s, port, _, fingerprint := ephemeralListener(t, stdio{Stdin: strings.NewReader("from sonde\n")})
		const client = `
import hashlib, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as raw:
    with ctx.wrap_socket(raw) as s:
        print("fingerprint", hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest(), file=sys.stderr)
        print("version", s.version(), file=sys.stderr)
        s.sendall(b"from python\n")
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        sys.stdout.write(got.decode())
`
		py := start(t, stdio{}, pythonPath(), "-c", client, strconv.Itoa(port))
		py.ExpectExit(t, 0)
		s.ExpectExit(t, 0)
		sameBytes(t, "python stdout (what sonde sent)", py.Stdout.Bytes(), []byte("from sonde\n"))
		sameBytes(t, "sonde stdout (what python sent)", s.Stdout.Bytes(), []byte("from python\n"))
		wantStderr(t, py, `^fingerprint `+fingerprint+`$`, `^version TLSv1\.3$`)
	})

	t.Run("sonde-with-the-printed-pin", func(t *testing.T) {
		t.Parallel()
		l, port, pin, _ := ephemeralListener(t, stdio{Stdin: strings.NewReader("from the listener\n")})
		c := sonde(t, stdio{Stdin: strings.NewReader("from the client\n")}, "-v", "--pin", pin, "127.0.0.1", strconv.Itoa(port))
		c.ExpectExit(t, 0)
		l.ExpectExit(t, 0)
		sameBytes(t, "client stdout", c.Stdout.Bytes(), []byte("from the listener\n"))
		sameBytes(t, "listener stdout", l.Stdout.Bytes(), []byte("from the client\n"))
		wantStderr(t, c, `^sonde: TLS 1\.3, `, `^sonde: peer certificate: subject CN=sonde ephemeral certificate; `)
	})

	t.Run("ncat-ssl-verify", func(t *testing.T) {
		// Ncat checks DNS names only, so it connects by "localhost"; -4
		// keeps that on 127.0.0.1, where sonde listens.
		t.Parallel()
		requirePeer(t, "ncat")
		pki := certtest.New(t)
		leaf := pki.Valid(t)
		sIn := newHeldStdin(t)
		s := sonde(t, stdio{Stdin: sIn.r}, "-l", "--tls", "--cert", leaf.CertFile, "--key", leaf.KeyFile, "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		if strings.Contains(s.Stderr.String(), "ephemeral") {
			t.Errorf("sonde -l --cert/--key announced an ephemeral certificate:\n%s", s.Stderr.String())
		}
		cIn := newHeldStdin(t)
		c := start(t, stdio{Stdin: cIn.r}, "ncat", "-4", "--ssl", "--ssl-verify", "--ssl-trustfile", pki.CAFile, "localhost", strconv.Itoa(port))
		exchange(t, s, sIn, c, cIn, "ncat", true)
		c.ExpectExit(t, 0)
	})

	t.Run("ncat-ssl-verify-untrusted", func(t *testing.T) {
		// The same, trusting another CA: ncat refuses, and the listener
		// reports the client that went away.
		t.Parallel()
		requirePeer(t, "ncat")
		pki, other := certtest.New(t), certtest.New(t)
		leaf := pki.Valid(t)
		s := sonde(t, stdio{Stdin: newHeldStdin(t).r}, "-l", "--tls", "--cert", leaf.CertFile, "--key", leaf.KeyFile, "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		c := start(t, stdio{Stdin: strings.NewReader("never sent\n")}, "ncat", "-4", "--ssl", "--ssl-verify", "--ssl-trustfile", other.CAFile, "localhost", strconv.Itoa(port))
		if code := c.Wait(t); code == 0 {
			t.Errorf("ncat trusted a certificate of another CA; stderr:\n%s", c.Stderr.String())
		}
		if got := s.Stdout.String(); got != "" {
			t.Errorf("sonde printed %q from a client that failed verification", got)
		}
	})
}

// TestTLSSondeToNcatSSL: Ncat's --ssl listener serves a self-signed
// certificate of its own (naming 127.0.0.1 as a DNS name). --insecure
// takes it; verification names the real problem, its unknown issuer.
func TestTLSSondeToNcatSSL(t *testing.T) {
	t.Parallel()
	ncatListener := func(t *testing.T, stdin *heldStdin) (*proc, int) {
		t.Helper()
		requirePeer(t, "ncat")
		return startPeerListener(t, "tcp4", func(port int) *proc {
			return start(t, stdio{Stdin: stdin.r}, "ncat", "--ssl", "-l", "127.0.0.1", strconv.Itoa(port))
		})
	}

	t.Run("insecure", func(t *testing.T) {
		t.Parallel()
		nIn := newHeldStdin(t)
		n, port := ncatListener(t, nIn)
		sIn := newHeldStdin(t)
		s := sonde(t, stdio{Stdin: sIn.r}, "-v", "--insecure", "127.0.0.1", strconv.Itoa(port))
		exchange(t, s, sIn, n, nIn, "ncat", false)
		wantStderr(t, s, `^sonde: warning: certificate not verified: `,
			`^sonde: peer certificate \(not verified\): subject CN=127\.0\.0\.1; names 127\.0\.0\.1$`)
		n.ExpectExit(t, 0)
	})

	t.Run("verified", func(t *testing.T) {
		t.Parallel()
		_, port := ncatListener(t, newHeldStdin(t))
		s := sonde(t, stdio{Stdin: strings.NewReader("hello\n")}, "--tls", "127.0.0.1", strconv.Itoa(port))
		s.ExpectExit(t, 1)
		wantStderr(t, s,
			`^sonde: TLS: the certificate of 127\.0\.0\.1:\d+ is signed by an unknown authority \(issuer: CN=127\.0\.0\.1\)$`,
			`^sonde: hint: trust its CA with --ca FILE, pin it with --pin sha256:…, or skip checks with --insecure$`)
	})
}

// TestTLSPlainMismatch: one side speaks TLS, the other plain text. Each
// sonde says so, from the bytes it got.
func TestTLSPlainMismatch(t *testing.T) {
	t.Parallel()

	t.Run("tls-client-to-plain-server", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "socat")
		_, port := startPeerListener(t, "tcp4", func(port int) *proc {
			return start(t, stdio{}, "socat", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", port),
				"SYSTEM:'echo HTTP/1.1 400 Bad Request'")
		})
		s := sonde(t, stdio{Stdin: strings.NewReader("hello\n")}, "--tls", "127.0.0.1", strconv.Itoa(port))
		s.ExpectExit(t, 1)
		if s.Stdout.String() != "" {
			t.Errorf("sonde wrote %q to stdout", s.Stdout.String())
		}
		wantStderr(t, s,
			`^sonde: TLS: 127\.0\.0\.1:\d+ did not answer with TLS; it sent "HTTP/`,
			`^sonde: hint: this looks like a plain-text port: drop --tls$`)
	})

	// A TLS server (OpenSSL's, Go's) closes without a byte when plain text
	// arrives, so a plain client has nothing to recognise; the other way
	// round, the ClientHello a plain listener receives gives TLS away.
	t.Run("tls-client-to-plain-listener", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "openssl")
		s := sonde(t, stdio{}, "-l", "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		c := start(t, stdio{Stdin: newHeldStdin(t).r}, "openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-quiet")
		s.ExpectExit(t, 0)
		wantStderr(t, s, `^sonde: warning: 127\.0\.0\.1:\d+ sent a TLS record: it speaks TLS; try again with --tls$`)
		if code := c.Wait(t); code == 0 {
			t.Errorf("s_client succeeded against a plain-text listener; stderr:\n%s", c.Stderr.String())
		}
	})
}
