package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/certtest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A peer that resets the connection while sonde sends to it: the error
// tells how much was sent, and with -v the totals follow the error that
// ended the session instead of coming before it.
func TestConnectResetWhileSending(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := porttest.ServeOne(ln, func(c net.Conn) error {
			_, err := io.ReadFull(c, make([]byte, 64<<10))
			c.(*net.TCPConn).SetLinger(0) // close with data unread and SO_LINGER 0: a reset
			return err
		})
		args := []string{"127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
		if verbose {
			args = append([]string{"-v"}, args...)
		}
		var stdout, stderr bytes.Buffer
		code := run(args, io.LimitReader(zeros{}, 1<<30), &stdout, &stderr)
		ln.Close()
		if err := <-served; err != nil {
			t.Fatalf("server: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if code != exitFailure {
			t.Fatalf("sonde %s: exit %d, want 1\n%s", strings.Join(args, " "), code, stderr.String())
		}
		reset := regexp.MustCompile(`^sonde: (connection reset by peer 127\.0\.0\.1:\d+|connection to 127\.0\.0\.1:\d+ closed by peer while sending,) after sending [1-9]\d* bytes \([\d.]+ [KM]iB\); 0 bytes received$`)
		i := slices.IndexFunc(lines, reset.MatchString)
		if i < 0 {
			t.Errorf("sonde %s: no line says how much was sent before the reset:\n%s", strings.Join(args, " "), stderr.String())
			continue
		}
		if verbose {
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "sonde: sent ") || !strings.Contains(last, ", received 0 bytes in ") {
				t.Errorf("sonde -v: the last line is %q, want the totals, after the error:\n%s", last, stderr.String())
			}
		}
	}
}

// A TLS 1.3 server that requires a client certificate says so only after
// the client's handshake is over, with an alert on the first read: the
// message names the alert and the flags that fix it.
func TestConnectTLSClientCertificateRequired(t *testing.T) {
	pki := certtest.New(t)
	pool := x509.NewCertPool()
	pool.AddCert(pki.CA)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pki.Valid(t).TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS13,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := porttest.ServeOne(ln, func(c net.Conn) error { return c.(*tls.Conn).Handshake() })
	var stdout, stderr bytes.Buffer
	code := run([]string{"--tls", "--ca", pki.CAFile, "127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)},
		strings.NewReader("hello\n"), &stdout, &stderr)
	if err := <-served; err == nil {
		t.Fatal("the server accepted a client without a certificate")
	}
	if code != exitFailure {
		t.Errorf("exit %d, want 1", code)
	}
	want := regexp.MustCompile(`(?m)^sonde: TLS: 127\.0\.0\.1:\d+ ended the session with the alert "tls: certificate required"\nsonde: hint: the server wants a client certificate: add --cert and --key\n`)
	if !want.MatchString(stderr.String()) {
		t.Errorf("stderr:\n%s\nwant the alert and a hint to add --cert and --key", stderr.String())
	}
}

// A directory on stdin is refused before any connection, as bad input,
// whatever the peer would have done.
func TestStdinDirectory(t *testing.T) {
	ln := porttest.Listen(t)
	accepted := make(chan struct{})
	go func() {
		if c, err := ln.Accept(); err == nil {
			close(accepted)
			c.Close()
		}
	}()
	for _, args := range [][]string{
		{"127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)},
		{"-l", "127.0.0.1", "0"},
	} {
		dir, err := os.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(args, dir, &stdout, &stderr)
		dir.Close()
		if want := "sonde: standard input is a directory: sonde cannot send it\nsonde: hint: redirect a file (< FILE), or give -d to send nothing\n"; code != exitUsage || stderr.String() != want {
			t.Errorf("sonde %s < DIR: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", strings.Join(args, " "), code, stderr.String(), want)
		}
	}
	select {
	case <-accepted:
		t.Error("sonde connected before refusing its stdin")
	default:
	}
}
