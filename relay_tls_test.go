//go:build unix

package main

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/certtest"
)

// plainEcho serves every client of a loopback listener: what it reads
// goes back until the client half-closes.
func plainEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// relay --tls-listen --ca requires client certificates signed by that CA,
// as -l --tls --ca does: a client without one gets nothing through.
func TestRelayTLSListenCARequiresClientCertificates(t *testing.T) {
	pki := certtest.New(t)
	client := pki.Issue(t, certtest.Spec{File: "client", CN: "client", Client: true})
	_, addr := startSonde(t, nil, io.Discard, "relay", "--tls-listen", "--ca", pki.CAFile, "127.0.0.1:0", plainEcho(t))

	echo := func(certs []tls.Certificate) (string, error) {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			return "", err
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(30 * time.Second)) // only against a hang
		c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, Certificates: certs})
		if _, err := io.WriteString(c, "ping"); err != nil {
			return "", err
		}
		if err := c.CloseWrite(); err != nil {
			return "", err
		}
		b, err := io.ReadAll(c)
		return string(b), err
	}
	if got, err := echo(nil); err == nil || got != "" {
		t.Errorf("a client without a certificate got %q, %v through; want a refused handshake", got, err)
	}
	if got, err := echo([]tls.Certificate{client.TLS}); err != nil || got != "ping" {
		t.Errorf("a client with a certificate the CA signed got %q, %v; want ping", got, err)
	}
}

// With --tls-listen, --ca is the clients' CA and no longer verifies
// TARGET: --insecure may go with it, and a client without a certificate
// is still refused.
func TestRelayTLSListenCAWithInsecureTarget(t *testing.T) {
	pki := certtest.New(t)
	_, addr := startSonde(t, nil, io.Discard, "relay", "--tls-listen", "--ca", pki.CAFile, "--tls", "--insecure", "127.0.0.1:0", plainEcho(t))
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(30 * time.Second)) // only against a hang
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	io.WriteString(c, "ping")
	if b, err := io.ReadAll(c); err == nil || len(b) > 0 {
		t.Errorf("a client without a certificate read %q, %v; want a refused handshake", b, err)
	}
}
