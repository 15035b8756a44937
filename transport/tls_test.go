package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/certtest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// tlsServer serves one client on a loopback port: it runs the server
// handshake, then answers the first line it reads with "pong: " and that
// line. done reports how the server side went; the goroutine never
// outlives the test.
type tlsServer struct {
	addr  string
	done  chan error // buffered: the server's outcome
	state chan tls.ConnectionState
}

func serveTLS(t *testing.T, cfg *tls.Config) *tlsServer {
	t.Helper()
	return serveRaw(t, func(c net.Conn, s *tlsServer) error {
		tc := tls.Server(c, cfg)
		if err := Handshake(context.Background(), tc, guard); err != nil {
			return err
		}
		s.state <- tc.ConnectionState()
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil {
			return err
		}
		_, err = io.WriteString(tc, "pong: "+line)
		return err
	})
}

// serveRaw accepts one client on a loopback port and hands the raw
// connection to serve.
func serveRaw(t *testing.T, serve func(net.Conn, *tlsServer) error) *tlsServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{addr: ln.Addr().String(), done: make(chan error, 1), state: make(chan tls.ConnectionState, 1)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		c, err := ln.Accept()
		if err != nil {
			s.done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(guard))
		s.done <- serve(c, s)
	}()
	t.Cleanup(func() {
		ln.Close()
		<-finished
	})
	return s
}

// silentTLSClient returns a TLS client, its handshake not begun, connected
// to a server that never answers (a plain-text server waiting for its
// client to speak first), and that server's address.
func silentTLSClient(t *testing.T) (*tls.Conn, string) {
	t.Helper()
	stop := make(chan struct{})
	s := serveRaw(t, func(c net.Conn, _ *tlsServer) error {
		<-stop
		return nil
	})
	t.Cleanup(func() { close(stop) })
	cfg, err := ClientTLSConfig(TLSOptions{}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return tls.Client(c, cfg), s.addr
}

// dialTLS connects to addr as `sonde --tls` would to host with options o,
// and returns the connection once the handshake is done.
func dialTLS(t *testing.T, addr, host string, o TLSOptions) (*tls.Conn, error) {
	t.Helper()
	cfg, err := ClientTLSConfig(o, host)
	if err != nil {
		t.Fatalf("ClientTLSConfig(%+v, %q): %v", o, host, err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(guard))
	tc := tls.Client(c, cfg)
	if err := Handshake(context.Background(), tc, guard); err != nil {
		return nil, err
	}
	return tc, nil
}

// pingPong checks that data crosses a finished handshake both ways.
func pingPong(t *testing.T, tc *tls.Conn, s *tlsServer) {
	t.Helper()
	if _, err := io.WriteString(tc, "ping\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || got != "pong: ping\n" {
		t.Fatalf("read: got %q, %v; want %q", got, err, "pong: ping\n")
	}
	if err := <-s.done; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// handshakeFails dials and expects the handshake to fail; it returns the
// explanation of the failure, checked to be one line.
func handshakeFails(t *testing.T, addr, host string, o TLSOptions) Explanation {
	t.Helper()
	tc, err := dialTLS(t, addr, host, o)
	if err == nil {
		tc.Close()
		t.Fatalf("handshake with %s (%+v) succeeded; want a failure", host, o)
	}
	var te *TLSError
	if !errors.As(err, &te) {
		t.Fatalf("handshake error %T %v is not a *TLSError", err, err)
	}
	if te.Peer != addr {
		t.Errorf("TLSError.Peer = %q, want %q", te.Peer, addr)
	}
	x := explain(t, err)
	if x.Usage {
		t.Errorf("a failed handshake is not a usage error: %+v", x)
	}
	t.Logf("sonde: %s\nsonde: hint: %s", x.Msg, x.Hint)
	return x
}

func serverConfig(c certtest.Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}}
}

func TestTLSVerificationFailures(t *testing.T) {
	pki := certtest.New(t)

	t.Run("expired", func(t *testing.T) {
		c := pki.Expired(t)
		s := serveTLS(t, serverConfig(c))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		when := c.Leaf.NotAfter.UTC().Format(time.RFC3339)
		if want := fmt.Sprintf("TLS: the certificate of %s expired on %s (3 days ago)", s.addr, when); x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "renew", "--insecure")
	})

	t.Run("not-yet-valid", func(t *testing.T) {
		c := pki.NotYetValid(t)
		s := serveTLS(t, serverConfig(c))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		when := c.Leaf.NotBefore.UTC().Format(time.RFC3339)
		if want := fmt.Sprintf("TLS: the certificate of %s is not valid yet: valid from %s", s.addr, when); x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "clock")
	})

	t.Run("wrong-name", func(t *testing.T) {
		s := serveTLS(t, serverConfig(pki.OtherName(t)))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		if want := fmt.Sprintf("TLS: the certificate of %s is for other.example, www.other.example, not 127.0.0.1", s.addr); x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "--sni")
	})

	t.Run("wrong-name-lists-every-name", func(t *testing.T) {
		c := pki.Issue(t, certtest.Spec{File: "many", CN: "many", Names: []string{"a.example", "b.example", "192.0.2.1"}})
		s := serveTLS(t, serverConfig(c))
		x := handshakeFails(t, s.addr, "localhost", TLSOptions{CAFile: pki.CAFile})
		wantContains(t, "message", x.Msg, "is for a.example, b.example, 192.0.2.1, not localhost")
	})

	t.Run("unknown-authority", func(t *testing.T) {
		s := serveTLS(t, serverConfig(pki.SelfSigned(t)))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		want := fmt.Sprintf("TLS: the certificate of %s is signed by an unknown authority (issuer: CN=sonde test self-signed)", s.addr)
		if x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "--ca FILE", "--pin", "--insecure")
	})

	// A self-signed certificate whose names do not fit either (ncat's
	// ephemeral one names 127.0.0.1 as a DNS name): the authority is the
	// problem to report, since no --sni could fix it.
	t.Run("unknown-authority-before-wrong-name", func(t *testing.T) {
		c := pki.Issue(t, certtest.Spec{File: "selfother", CN: "127.0.0.1", Names: []string{"other.example"}, SelfSign: true})
		s := serveTLS(t, serverConfig(c))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		wantContains(t, "message", x.Msg, "signed by an unknown authority (issuer: CN=127.0.0.1)")
	})

	t.Run("ip-address-as-dns-name", func(t *testing.T) {
		c := pki.Issue(t, certtest.Spec{File: "ipdns", CN: "127.0.0.1", Names: []string{"127.0.0.1"}, RawDNS: true})
		s := serveTLS(t, serverConfig(c))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		wantContains(t, "message", x.Msg, "is for 127.0.0.1, not 127.0.0.1")
		wantContains(t, "hint", x.Hint, "gives 127.0.0.1 as a DNS name", "--pin")
	})

	t.Run("pin-mismatch", func(t *testing.T) {
		c := pki.SelfSigned(t)
		s := serveTLS(t, serverConfig(c))
		other := pki.Valid(t)
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{Pin: SPKIPin(other.Leaf)})
		want := fmt.Sprintf("TLS: %s: the certificate does not match --pin (its pin is %s)", s.addr, SPKIPin(c.Leaf))
		if x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "not the server you pinned")
	})

	t.Run("sni-changes-the-verified-name", func(t *testing.T) {
		s := serveTLS(t, serverConfig(pki.Valid(t)))
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile, SNI: "other.example"})
		wantContains(t, "message", x.Msg, "is for localhost, 127.0.0.1, not other.example")
	})
}

func TestTLSProtocolFailures(t *testing.T) {
	pki := certtest.New(t)

	t.Run("plain-text-server", func(t *testing.T) {
		s := serveRaw(t, func(c net.Conn, _ *tlsServer) error {
			_, err := io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			if err == nil {
				_, err = io.Copy(io.Discard, c) // until the client gives up
			}
			return err
		})
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{})
		wantContains(t, "message", x.Msg, fmt.Sprintf("TLS: %s did not answer with TLS; it sent \"HTTP/", s.addr))
		wantContains(t, "hint", x.Hint, "plain-text port", "drop --tls")
	})

	t.Run("peer-closes-during-handshake", func(t *testing.T) {
		s := serveRaw(t, func(c net.Conn, _ *tlsServer) error {
			// Read the whole ClientHello record, so that closing sends a
			// FIN rather than a reset for unread data.
			var hdr [5]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return err
			}
			_, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(hdr[3:])))
			return err
		})
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{})
		if want := fmt.Sprintf("TLS handshake with %s failed: the peer closed the connection", s.addr); x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "may not speak TLS")
		if err := <-s.done; err != nil {
			t.Fatalf("server: %v", err)
		}
	})

	t.Run("peer-never-answers", func(t *testing.T) {
		c, addr := silentTLSClient(t)
		// The timeout is what ends the handshake here, not what the test
		// measures: the peer never answers.
		err := Handshake(context.Background(), c, 50*time.Millisecond)
		if err == nil {
			t.Fatal("handshake with a silent peer succeeded")
		}
		x := explain(t, err)
		want := fmt.Sprintf("TLS handshake with %s timed out after 50ms: the server accepted the connection but never answered the handshake (not a TLS port?)", addr)
		if x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
		wantContains(t, "hint", x.Hint, "drop --tls", "-w")
	})

	t.Run("client-never-speaks", func(t *testing.T) {
		ln := porttest.Listen(t)
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		err = ServerHandshake(context.Background(), tls.Server(conn, serverConfig(pki.Valid(t))), 50*time.Millisecond)
		x := explain(t, err)
		want := fmt.Sprintf("TLS handshake with client %s timed out after 50ms: it connected but never finished the handshake (not a TLS client?)", client.LocalAddr())
		if x.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", x.Msg, want)
		}
	})

	t.Run("no-common-alpn", func(t *testing.T) {
		cfg := serverConfig(pki.Valid(t))
		cfg.NextProtos = []string{"h2"}
		s := serveTLS(t, cfg)
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile, ALPN: []string{"sonde/1"}})
		wantContains(t, "message", x.Msg, fmt.Sprintf("TLS handshake with %s failed: the peer sent the alert \"tls: no application protocol\"", s.addr))
		wantContains(t, "hint", x.Hint, "--alpn")
	})

	t.Run("canceled", func(t *testing.T) {
		c, _ := silentTLSClient(t)
		interrupted := errors.New("interrupted by SIGINT")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(interrupted)
		if err := Handshake(ctx, c, guard); err != interrupted {
			t.Errorf("Handshake after an interrupt = %v, want the interrupt itself", err)
		}
	})
}

// Alerts the peer sends are worded with what to do about them. A TLS 1.3
// client meets some of them after its handshake; they are built here.
func TestExplainTLSAlerts(t *testing.T) {
	tests := []struct {
		alert uint8
		msg   string
		hint  string
	}{
		{116, "certificate required", "add --cert and --key"},
		{42, "bad certificate", "wants a client certificate (--cert/--key) signed by a CA it trusts"},
		{48, "unknown certificate authority", "signed by a CA it trusts"},
		{120, "no application protocol", "--alpn"},
		{70, "protocol version not supported", "share no protocol version"},
		{40, "handshake failure", "share no protocol version"},
	}
	for _, tt := range tests {
		remote := &TLSError{Peer: "192.0.2.1:443", Err: &net.OpError{Op: "remote error", Err: tls.AlertError(tt.alert)}}
		local := &TLSError{Peer: "192.0.2.1:443", Err: fmt.Errorf("handshake: %w", tls.AlertError(tt.alert))}
		for _, err := range []error{remote, local} {
			x := explain(t, err)
			if want := fmt.Sprintf("TLS handshake with 192.0.2.1:443 failed: the peer sent the alert \"tls: %s\"", tt.msg); x.Msg != want {
				t.Errorf("alert %d: message\n got %q\nwant %q", tt.alert, x.Msg, want)
			}
			wantContains(t, "hint", x.Hint, tt.hint)
		}
	}
}

func TestTLSSuccess(t *testing.T) {
	pki := certtest.New(t)
	valid, self := pki.Valid(t), pki.SelfSigned(t)

	tests := []struct {
		name string
		cert certtest.Cert
		host string
		o    TLSOptions
	}{
		{"ca-by-ip", valid, "127.0.0.1", TLSOptions{CAFile: pki.CAFile}},
		{"ca-by-name", valid, "localhost", TLSOptions{CAFile: pki.CAFile}},
		{"pin-spki", self, "127.0.0.1", TLSOptions{Pin: SPKIPin(self.Leaf)}},
		{"pin-whole-certificate", self, "127.0.0.1", TLSOptions{Pin: "sha256:" + Fingerprint(self.Leaf)}},
		{"pin-ignores-the-name", self, "192.0.2.1", TLSOptions{Pin: SPKIPin(self.Leaf)}},
		{"insecure-self-signed", self, "127.0.0.1", TLSOptions{Insecure: true}},
		{"insecure-expired", pki.Expired(t), "127.0.0.1", TLSOptions{Insecure: true}},
		{"sni", pki.OtherName(t), "127.0.0.1", TLSOptions{CAFile: pki.CAFile, SNI: "other.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serveTLS(t, serverConfig(tt.cert))
			tc, err := dialTLS(t, s.addr, tt.host, tt.o)
			if err != nil {
				t.Fatalf("handshake: %v\n%+v", err, Explain(err))
			}
			pingPong(t, tc, s)
		})
	}
}

func TestTLSSNISent(t *testing.T) {
	pki := certtest.New(t)
	cases := []struct{ host, sni, want string }{
		{"localhost", "", "localhost"},
		{"127.0.0.1", "", ""}, // an IP address is never sent as SNI
		{"127.0.0.1", "other.example", "other.example"},
	}
	for _, c := range cases {
		t.Run(c.host+"/"+c.sni, func(t *testing.T) {
			cert := pki.Issue(t, certtest.Spec{File: "sni", CN: "sni", Names: []string{"localhost", "127.0.0.1", "other.example"}})
			cfg := serverConfig(cert)
			sent := make(chan string, 1)
			cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				sent <- h.ServerName
				return nil, nil
			}
			s := serveTLS(t, cfg)
			tc, err := dialTLS(t, s.addr, c.host, TLSOptions{CAFile: pki.CAFile, SNI: c.sni})
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			pingPong(t, tc, s)
			if got := <-sent; got != c.want {
				t.Errorf("SNI sent = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTLSALPNAndDescribe(t *testing.T) {
	pki := certtest.New(t)
	c := pki.Valid(t)
	cfg := serverConfig(c)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	s := serveTLS(t, cfg)
	tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile, ALPN: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != "http/1.1" {
		t.Errorf("negotiated ALPN %q, want http/1.1", cs.NegotiatedProtocol)
	}
	lines := DescribeTLS(cs, true)
	if len(lines) != 3 {
		t.Fatalf("DescribeTLS gave %d lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if want := fmt.Sprintf("TLS 1.3, %s, ALPN http/1.1", tls.CipherSuiteName(cs.CipherSuite)); lines[0] != want {
		t.Errorf("line 1:\n got %q\nwant %q", lines[0], want)
	}
	if want := "peer certificate: subject CN=localhost; names localhost, 127.0.0.1"; lines[1] != want {
		t.Errorf("line 2:\n got %q\nwant %q", lines[1], want)
	}
	until := c.Leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST")
	if want := fmt.Sprintf("peer certificate: issuer CN=sonde test CA; valid until %s (29 days left)", until); lines[2] != want {
		t.Errorf("line 3:\n got %q\nwant %q", lines[2], want)
	}
	pingPong(t, tc, s)

	// The server side reports the protocol it chose too.
	if got := (<-s.state).NegotiatedProtocol; got != "http/1.1" {
		t.Errorf("server negotiated ALPN %q, want http/1.1", got)
	}
}

func TestDescribeTLSWithoutALPNAndExpired(t *testing.T) {
	pki := certtest.New(t)
	c := pki.Expired(t)
	s := serveTLS(t, serverConfig(c))
	tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{Insecure: true})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	lines := DescribeTLS(tc.ConnectionState(), false)
	wantContains(t, "line 1", lines[0], ", ALPN none")
	wantContains(t, "line 2", lines[1], "peer certificate (not verified): subject ")
	// With --insecure, -v is how the user learns what is wrong.
	wantContains(t, "line 3", lines[2], fmt.Sprintf("valid until %s (expired 3 days ago)", c.Leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST")))
	pingPong(t, tc, s)
}

func TestTLSClientCertificates(t *testing.T) {
	pki := certtest.New(t)
	server := pki.Valid(t)
	cfg, leaf, ephemeral, err := ServerTLSConfig(TLSOptions{CertFile: server.CertFile, KeyFile: server.KeyFile, CAFile: pki.CAFile}, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if ephemeral || !leaf.Equal(server.Leaf) {
		t.Fatalf("ServerTLSConfig with --cert/--key: ephemeral=%v, leaf %v; want the given certificate", ephemeral, leaf.Subject)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("--ca on a listener: ClientAuth = %v, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}

	t.Run("without-client-certificate", func(t *testing.T) {
		s := serveTLS(t, cfg)
		// With TLS 1.3 the client's side of the handshake is over before
		// the server looks at the client certificate: the client learns
		// of the refusal on its first read.
		tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		if err != nil {
			t.Fatalf("client handshake: %v", err)
		}
		io.WriteString(tc, "ping\n")
		if _, err := tc.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("client read = %v, want the alert certificate required", err)
		}
		serr := <-s.done
		if serr == nil {
			t.Fatal("the server accepted a client without a certificate")
		}
		wantContains(t, "server error", serr.Error(), "client didn't provide a certificate")
	})

	t.Run("without-client-certificate-tls12", func(t *testing.T) {
		cfg12 := cfg.Clone()
		cfg12.MaxVersion = tls.VersionTLS12
		s := serveTLS(t, cfg12)
		x := handshakeFails(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile})
		wantContains(t, "message", x.Msg, fmt.Sprintf("TLS handshake with %s failed: the peer sent the alert \"tls: handshake failure\"", s.addr))
		wantContains(t, "hint", x.Hint, "--cert", "--key")
	})

	t.Run("with-client-certificate-of-the-ca", func(t *testing.T) {
		client := pki.Issue(t, certtest.Spec{File: "client", CN: "sonde test client", Client: true})
		s := serveTLS(t, cfg)
		tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		pingPong(t, tc, s)
		st := <-s.state
		if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "sonde test client" {
			t.Errorf("the server did not see the client certificate")
		}
	})

	t.Run("with-client-certificate-of-another-ca", func(t *testing.T) {
		other := certtest.New(t)
		client := other.Issue(t, certtest.Spec{File: "client", CN: "stranger", Client: true})
		s := serveTLS(t, cfg)
		tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{CAFile: pki.CAFile, CertFile: client.CertFile, KeyFile: client.KeyFile})
		if err == nil {
			io.WriteString(tc, "ping\n")
			_, err = tc.Read(make([]byte, 1))
		}
		if err == nil {
			t.Fatal("a client certificate of another CA was accepted")
		}
		var ua x509.UnknownAuthorityError
		if serr := <-s.done; !errors.As(serr, &ua) {
			t.Errorf("server error = %v, want an unknown authority", serr)
		}
	})
}

func TestTLSConfigInputErrors(t *testing.T) {
	pki := certtest.New(t)
	c := pki.Valid(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		o    TLSOptions
		want string
	}{
		{"ca-missing", TLSOptions{CAFile: missing}, "cannot read --ca " + missing},
		{"ca-not-pem", TLSOptions{CAFile: garbage}, "holds no PEM certificate"},
		{"cert-without-key", TLSOptions{CertFile: c.CertFile}, "--cert and --key go together"},
		{"key-without-cert", TLSOptions{KeyFile: c.KeyFile}, "--cert and --key go together"},
		{"key-mismatch", TLSOptions{CertFile: c.CertFile, KeyFile: pki.SelfSigned(t).KeyFile}, "cannot load --cert"},
		{"bad-pin", TLSOptions{Pin: "sha256:abc"}, "bad --pin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ClientTLSConfig(tt.o, "localhost")
			checkTLSInputError(t, "ClientTLSConfig", err, tt.want)
			if tt.o.Pin != "" {
				return
			}
			_, _, _, err = ServerTLSConfig(tt.o, nil)
			checkTLSInputError(t, "ServerTLSConfig", err, tt.want)
		})
	}
}

func checkTLSInputError(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %q", what, want)
	}
	x := explain(t, err)
	if !x.Usage || x.Hint == "" {
		t.Errorf("%s: %+v: want a usage error with a hint", what, x)
	}
	wantContains(t, what, x.Msg, want)
}

func TestParsePin(t *testing.T) {
	const h = "3f9a0c5e6b7d8e9f00112233445566778899aabbccddeeff0123456789abcdef"
	want, _ := hex.DecodeString(h)
	colons := strings.ToUpper(h[0:2])
	for i := 2; i < len(h); i += 2 {
		colons += ":" + strings.ToUpper(h[i:i+2])
	}
	tests := []struct {
		in      string
		ok      bool
		errPart string
	}{
		{"sha256:" + h, true, ""},
		{"  sha256:" + h + "\n", true, ""},
		{"sha256:" + strings.ToUpper(h), true, ""},
		{"sha256:" + colons, true, ""}, // as Fingerprint prints it
		{h, false, "must start with sha256:"},
		{"sha1:" + h, false, "must start with sha256:"},
		{"sha256:", false, "want 64 hex digits"},
		{"sha256:" + h[:62], false, "want 64 hex digits"},
		{"sha256:" + h + "00", false, "want 64 hex digits"},
		{"sha256:" + h[:63] + "g", false, "want 64 hex digits"},
		{"sha256:" + h[:63], false, "want 64 hex digits"},
	}
	for _, tt := range tests {
		got, err := ParsePin(tt.in)
		if tt.ok {
			if err != nil || string(got) != string(want) {
				t.Errorf("ParsePin(%q) = %x, %v; want %x", tt.in, got, err, want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParsePin(%q) succeeded; want an error containing %q", tt.in, tt.errPart)
			continue
		}
		x := explain(t, err)
		if !x.Usage || !strings.Contains(x.Msg, tt.errPart) || !strings.Contains(x.Hint, "--pin sha256:") {
			t.Errorf("ParsePin(%q): %+v; want a usage error containing %q and a hint", tt.in, x, tt.errPart)
		}
	}
}

func TestServerTLSConfigEphemeral(t *testing.T) {
	cfg, leaf, ephemeral, err := ServerTLSConfig(TLSOptions{ALPN: []string{"sonde/1"}}, []string{"sonde.test", "192.0.2.7", "0.0.0.0", "::", ""})
	if err != nil {
		t.Fatal(err)
	}
	if !ephemeral {
		t.Error("no --cert/--key: want an ephemeral certificate")
	}
	if cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("no --ca: ClientAuth = %v, want none", cfg.ClientAuth)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "sonde.test", "192.0.2.7"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("the ephemeral certificate does not cover %s: %v", name, err)
		}
	}
	for _, ip := range leaf.IPAddresses {
		if ip.IsUnspecified() {
			t.Errorf("the ephemeral certificate names the wildcard address %s", ip)
		}
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("ephemeral key is %T, want ECDSA", leaf.PublicKey)
	}
	if time.Until(leaf.NotAfter) <= 0 || time.Since(leaf.NotBefore) <= 0 {
		t.Errorf("ephemeral certificate not valid now: %s to %s", leaf.NotBefore, leaf.NotAfter)
	}

	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(SPKIPin(leaf)) {
		t.Errorf("SPKIPin = %q, want sha256: and 64 lower-case hex digits", SPKIPin(leaf))
	}
	fp := Fingerprint(leaf)
	if !regexp.MustCompile(`^[0-9A-F]{2}(:[0-9A-F]{2}){31}$`).MatchString(fp) {
		t.Errorf("Fingerprint = %q, want 32 colon-separated upper-case hex bytes", fp)
	}
	sum := sha256.Sum256(leaf.Raw)
	if strings.ReplaceAll(fp, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("Fingerprint = %q is not the SHA-256 of the certificate", fp)
	}

	// What the listener prints is what a client needs.
	for _, pin := range []string{SPKIPin(leaf), "sha256:" + fp} {
		t.Run(pin[:15], func(t *testing.T) {
			s := serveTLS(t, cfg)
			tc, err := dialTLS(t, s.addr, "127.0.0.1", TLSOptions{Pin: pin, ALPN: []string{"sonde/1"}})
			if err != nil {
				t.Fatalf("--pin %s: %v", pin, err)
			}
			if got := tc.ConnectionState().NegotiatedProtocol; got != "sonde/1" {
				t.Errorf("ALPN %q, want sonde/1", got)
			}
			pingPong(t, tc, s)
		})
	}
	t.Run("verified", func(t *testing.T) {
		s := serveTLS(t, cfg)
		x := handshakeFails(t, s.addr, "localhost", TLSOptions{})
		wantContains(t, "message", x.Msg, "unknown authority (issuer: CN=sonde ephemeral certificate)")
	})
	t.Run("fresh-each-time", func(t *testing.T) {
		_, again, _, err := ServerTLSConfig(TLSOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if SPKIPin(again) == SPKIPin(leaf) {
			t.Error("two ephemeral certificates share a key")
		}
	})
}

func TestLooksLikeTLS(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"client hello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, true},
		{"handshake TLS 1.2 record", []byte{0x16, 0x03, 0x03, 0x00, 0x7a}, true},
		{"alert", []byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}, true},
		{"alert SSL 3.0", []byte{0x15, 0x03, 0x00, 0x00, 0x02}, true},
		{"three bytes", []byte{0x16, 0x03, 0x01}, true},
		{"application data", []byte{0x17, 0x03, 0x03, 0x00, 0x10}, false},
		{"change cipher spec", []byte{0x14, 0x03, 0x03, 0x00, 0x01}, false},
		{"unknown minor version", []byte{0x16, 0x03, 0x05, 0x00, 0x10}, false},
		{"SSL 2 major version", []byte{0x16, 0x02, 0x00, 0x00, 0x10}, false},
		{"two bytes", []byte{0x16, 0x03}, false},
		{"empty", nil, false},
		{"HTTP", []byte("HTTP/1.1 400 Bad Request\r\n"), false},
		{"SSH banner", []byte("SSH-2.0-OpenSSH_9.6\r\n"), false},
		{"SMTP banner", []byte("220 mail.example ESMTP\r\n"), false},
	}
	for _, tt := range tests {
		if got := LooksLikeTLS(tt.in); got != tt.want {
			t.Errorf("LooksLikeTLS(%s % x) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

// A real ClientHello is what a plain listener sees from a TLS client.
func TestLooksLikeTLSClientHello(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer client.Close()
		tls.Client(client, &tls.Config{InsecureSkipVerify: true}).Handshake()
	}()
	buf := make([]byte, 16)
	n, err := io.ReadAtLeast(server, buf, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeTLS(buf[:n]) {
		t.Errorf("a ClientHello % x does not look like TLS", buf[:n])
	}
	server.Close()
	<-done
}

// FuzzParsePin: --pin sha256:HEX. An accepted pin is a SHA-256 (32 bytes),
// it is exactly the hex digits given, and the forms sonde prints (SPKIPin's
// lower-case hex, Fingerprint's upper-case with colons) read back to it.
func FuzzParsePin(f *testing.F) {
	sum := sha256.Sum256([]byte("sonde"))
	f.Add("sha256:" + hex.EncodeToString(sum[:]))
	f.Add(" sha256:" + strings.ToUpper(hex.EncodeToString(sum[:])) + "\n")
	f.Add("sha256:" + hex.EncodeToString(sum[:31]))
	f.Add("SHA256:" + hex.EncodeToString(sum[:]))
	f.Add("sha256:zz")
	f.Fuzz(func(t *testing.T, s string) {
		pin, err := ParsePin(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if len(pin) != sha256.Size {
			t.Fatalf("ParsePin(%q): %d bytes, want %d", s, len(pin), sha256.Size)
		}
		digits := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "sha256:"), ":", "")
		if !strings.EqualFold(digits, hex.EncodeToString(pin)) {
			t.Fatalf("ParsePin(%q) = %x: not the digits given", s, pin)
		}
		colons := make([]string, len(pin))
		for i, b := range pin {
			colons[i] = fmt.Sprintf("%02X", b)
		}
		for _, form := range []string{"sha256:" + hex.EncodeToString(pin), "sha256:" + strings.Join(colons, ":")} {
			if again, err := ParsePin(form); err != nil || !bytes.Equal(again, pin) {
				t.Fatalf("ParsePin(%q) = %x, but %q gives %x, %v", s, pin, form, again, err)
			}
		}
	})
}

// FuzzALPN: the --alpn list, as TLSOptions.ALPN (the value split at
// commas; the CLI also drops empty items and spaces). A list that
// ClientTLSConfig accepts is one crypto/tls can send: the client's hello
// goes out (over an in-memory pipe) instead of failing on the config, as
// it did once connected. ServerTLSConfig accepts exactly the same lists.
func FuzzALPN(f *testing.F) {
	f.Add("h2,http/1.1")
	f.Add("sonde/1")
	f.Add("h2,,http/1.1")
	f.Add(strings.Repeat("a", 256))
	f.Add(strings.Repeat("a", 255))
	f.Add(strings.Repeat(strings.Repeat("b", 255)+",", 127) + "c")
	f.Add(strings.Repeat(strings.Repeat("b", 255)+",", 128) + "c")
	// A certificate made once: a fresh one per input would cost more than
	// all the rest.
	cert, err := selfSigned(nil)
	if err != nil {
		f.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: cert.Certificate[0]}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		protos := strings.Split(s, ",")
		cfg, err := ClientTLSConfig(TLSOptions{ALPN: protos, Insecure: true}, "localhost")
		_, _, _, serr := ServerTLSConfig(TLSOptions{ALPN: protos, CertFile: certFile, KeyFile: keyFile}, nil)
		if (err == nil) != (serr == nil) {
			t.Fatalf("ALPN %q: client config error %v, server config error %v", s, err, serr)
		}
		if err != nil {
			checkFuzzError(t, err)
			checkFuzzError(t, serr)
			return
		}
		if !slices.Equal(cfg.NextProtos, protos) {
			t.Fatalf("ALPN %q: NextProtos %q", s, cfg.NextProtos)
		}
		client, server := net.Pipe()
		done := make(chan error, 1)
		go func() {
			err := tls.Client(client, cfg).Handshake()
			client.Close()
			done <- err
		}()
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		var hdr [5]byte
		_, rerr := io.ReadFull(server, hdr[:])
		server.Close()
		herr := <-done
		if rerr != nil || hdr[0] != 22 { // a handshake record
			t.Fatalf("ALPN %q accepted, but crypto/tls sent no ClientHello: %v", s, herr)
		}
	})
}

// VerifiesPeer: a client config checks the server unless --insecure (a
// pin is a check); a server config checks clients only when --ca
// requires their certificates.
func TestVerifiesPeer(t *testing.T) {
	pki := certtest.New(t)
	client := func(o TLSOptions) *tls.Config {
		cfg, err := ClientTLSConfig(o, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	server := func(o TLSOptions) *tls.Config {
		cfg, _, _, err := ServerTLSConfig(o, []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	pin := "sha256:" + strings.Repeat("00", 32)
	tests := []struct {
		name   string
		cfg    *tls.Config
		server bool
		want   bool
	}{
		{"client default", client(TLSOptions{}), false, true},
		{"client --ca", client(TLSOptions{CAFile: pki.CAFile}), false, true},
		{"client --pin", client(TLSOptions{Pin: pin}), false, true},
		{"client --insecure", client(TLSOptions{Insecure: true}), false, false},
		{"server", server(TLSOptions{}), true, false},
		{"server --ca", server(TLSOptions{CAFile: pki.CAFile}), true, true},
	}
	for _, tt := range tests {
		if got := VerifiesPeer(tt.cfg, tt.server); got != tt.want {
			t.Errorf("%s: VerifiesPeer = %v, want %v", tt.name, got, tt.want)
		}
	}
}
